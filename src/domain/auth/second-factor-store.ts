// The second-factor port step-up and Reauthenticate ask: is a factor active, and is this code one of it.
import { hasConfirmedTotp, lockTotpFactor } from '../../db/index.js';
import type { Operation, SecondFactorStore } from '../kernel/operation.js';
import { inTransaction } from '../kernel/unit-of-work.js';
import { useTotpCode } from './second-factor.js';

/**
 * The account's confirmed authenticator app. `verifyCode` uses the code up
 * (its time step is refused from then on) but counts no guess: its callers
 * reserve one before asking.
 */
export const totpSecondFactors: SecondFactorStore = {
  hasActive: (op, userId) => hasConfirmedTotp(op.em, userId),
  verifyCode: (op, userId, code) =>
    inTransaction(
      op,
      async (uow) => {
        const factor = await lockTotpFactor(uow.em, userId);
        if (!factor?.confirmedAt) return false;
        return (await useTotpCode(uow, factor, code)) === undefined;
      },
      { whileCallerWaits: true },
    ),
};

/** Whether `userId` has an active second factor: step-up then needs aal2, and Reauthenticate a code. */
export function hasActiveSecondFactor(op: Operation, userId: string): Promise<boolean> {
  return op.deps.secondFactors.hasActive(op, userId);
}

/** Checks (and uses up) a code of the user's active factor; the caller counts the guess first. */
export function verifySecondFactorCode(op: Operation, userId: string, code: string): Promise<boolean> {
  return op.deps.secondFactors.verifyCode(op, userId, code);
}
