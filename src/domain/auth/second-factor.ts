import type { Operation, SecondFactorStore } from '../kernel/operation.js';

/**
 * Until TOTP factors exist (issue #14, the factors part), no account has a
 * second factor. The composition root wires the factor storage here; tests
 * replace `deps.secondFactors` on a server to act as an enrolled account.
 */
export const noSecondFactors: SecondFactorStore = {
  hasActive: () => Promise.resolve(false),
  verifyCode: () => Promise.resolve(false),
};

/** Whether `userId` has an active second factor: step-up then needs aal2, and Reauthenticate a code. */
export function hasActiveSecondFactor(op: Operation, userId: string): Promise<boolean> {
  return op.deps.secondFactors.hasActive(op, userId);
}

/** Checks (and uses up) a code of the user's active factor; the caller counts the guess first. */
export function verifySecondFactorCode(op: Operation, userId: string, code: string): Promise<boolean> {
  return op.deps.secondFactors.verifyCode(op, userId, code);
}
