import type { Operation } from '../kernel/operation.js';
import { DomainError } from '../kernel/errors.js';
import type { Principal } from '../kernel/principal.js';
import { hasActiveSecondFactor } from './second-factor-store.js';

const reauthenticationRequired = (id: string, message: string) =>
  new DomainError('unauthenticated', id, `${message}; call AuthService.Reauthenticate and retry with its token`, {
    reason: 'REAUTHENTICATION_REQUIRED',
  });

/**
 * The step-up rule of RPCs whose access policy declares it: a person must
 * have proven who they are within STEP_UP_MAX_AGE_SECONDS and, when their
 * account has an active second factor, with it (aal2). Their token tells
 * when and how (auth_time, acr), so a stolen or long-open session alone cannot
 * change credentials or destroy data.
 *
 * Service accounts and the system are exempt: a backend has no interactive
 * sign-in to repeat, and presents its whole credential (API key or client
 * certificate) on every call, so every call is as fresh as it can be. Their
 * reach is bounded by their role instead.
 */
export async function requireRecentAuthentication(op: Operation, principal: Principal): Promise<void> {
  if (principal.kind !== 'user') return;
  const ageMs = op.clock.now().getTime() - principal.authTime.getTime();
  if (ageMs > op.deps.tokens.stepUpMaxAgeSeconds * 1000) {
    throw reauthenticationRequired('STEP-001', 'this call needs a recent authentication');
  }
  if (principal.acr !== 'aal2' && (await hasActiveSecondFactor(op, principal.userId))) {
    throw reauthenticationRequired('STEP-002', 'this call needs an authentication with your second factor');
  }
}
