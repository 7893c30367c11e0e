import { queueEmail } from '../kernel/outbox.js';
import type { UnitOfWork } from '../kernel/unit-of-work.js';

/**
 * Tells an account's owner that wrong passwords locked password sign-in for
 * a while. Queued once per lock: only the failure that took the last attempt
 * locks (see kernel/rate-limits.ts).
 */
export function queueSignInLockedMail(uow: UnitOfWork, email: string, userId: string): void {
  queueEmail(uow, 'sign_in_locked', { to: email, variables: { at: uow.clock.now().toISOString() } }, userId);
}
