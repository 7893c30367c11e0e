import { lockSession, User } from '../../db/index.js';
import { openUserEmail } from '../kernel/user-email.js';
import { AuditEventType } from '../kernel/audit-record.js';
import { signedInUser } from '../kernel/callers.js';
import { DomainError, Violations } from '../kernel/errors.js';
import type { Operation } from '../kernel/operation.js';
import { reserveGuess } from '../kernel/rate-limit-checks.js';
import { inTransaction } from '../kernel/unit-of-work.js';
import { checkPresentedPassword } from '../kernel/validation.js';
import { assuranceOf, type Assurance } from './assurance.js';
import { hasActiveSecondFactor, verifySecondFactorCode } from './second-factor-store.js';
import { issueAccessToken } from './sign-in.js';
import { queueSignInLockedMail } from './sign-in-lock.js';

/** A TOTP code (RFC 6238, 6 digits). */
const CODE_SHAPE = /^[0-9]{6}$/;

export interface Reauthentication {
  accessToken: string;
  accessTokenExpiresAt: Date;
  assurance: Assurance;
}

/**
 * Proves again who the signed-in user is, for the RPCs that need a recent
 * authentication (step-up.ts): the current password and, when a second
 * factor is active, one of its codes, each counted by the guess limiter
 * before it is checked (the same account key as Login). The calling
 * session's authenticated_at, amr and acr are renewed, so later refreshes
 * keep them, and a new access token of that session carries them. The
 * refresh token is not touched.
 */
export async function reauthenticate(op: Operation, input: { currentPassword: string; code: string }): Promise<Reauthentication> {
  const caller = signedInUser(op, 'REAU-001');
  const violations = new Violations();
  const password = checkPresentedPassword('current_password', input.currentPassword, violations);
  if (input.code !== '' && !CODE_SHAPE.test(input.code)) violations.add('code', 'must be 6 digits');
  violations.throwIfAny('REAU-002');
  const factorActive = await hasActiveSecondFactor(op, caller.userId);
  // Nothing counts that was not checked: a code sent to an account without a factor is refused, not ignored.
  if (factorActive && input.code === '') violations.add('code', 'is required: the account has an active second factor');
  if (!factorActive && input.code !== '') violations.add('code', 'must be empty: the account has no active second factor');
  violations.throwIfAny('REAU-003');

  const user = await op.em.findOneOrFail(User, caller.userId, { populate: ['passwordHash'] });
  // One guess per attempt, settled only once everything presented was checked: a right password
  // must not start the count over while codes are being guessed behind it.
  // The same account key as Login's: the normalized address.
  const email = await openUserEmail(op, user);
  const guess = await reserveGuess(op, email, 'LIMIT-014', () => recordFailure(op, user, email, 'too_many_attempts'));
  const passwordOk = await passwordMatches(op, user, password);
  // Behind the right password only, so a wrong password does not use up a valid code.
  const codeOk = passwordOk && (!factorActive || (await verifySecondFactorCode(op, user.id, input.code)));
  if (!codeOk) {
    const { locked } = await guess.failed();
    await recordFailure(op, user, email, passwordOk ? 'wrong_code' : undefined, locked);
    throw wrongCredentials(passwordOk ? 'code' : 'current_password');
  }
  await guess.succeeded();
  // The client gave up while its password was checked: renew nothing it will never hear of.
  op.signal.throwIfAborted();
  const amr = factorActive ? ['pwd', 'otp', 'mfa'] : ['pwd'];

  return inTransaction(op, async (uow) => {
    const now = uow.clock.now();
    const session = await lockSession(uow.em, caller.sessionId);
    // Ended while the password was checked (a logout, a revocation on another instance).
    if (!session || session.user.id !== caller.userId || session.revokedAt || session.expiresAt <= now) {
      throw new DomainError('unauthenticated', 'REAU-005', 'the session has ended', { reason: 'SESSION_REVOKED' });
    }
    const assurance = assuranceOf(amr, now);
    Object.assign(session, assurance);
    uow.record({
      type: AuditEventType.reauthenticationSucceeded,
      subjectUserId: user.id,
      actor: { type: 'user', id: user.id },
      metadata: { session_id: session.id, amr: assurance.amr, acr: assurance.acr },
    });
    const access = await issueAccessToken(uow.deps, await uow.em.findOneOrFail(User, user.id), session);
    return { accessToken: access.token, accessTokenExpiresAt: access.expiresAt, assurance };
  });
}

/** Whether the password is the account's; an account without one is checked against a dummy hash (same time, always false). */
async function passwordMatches(op: Operation, user: User, password: string): Promise<boolean> {
  if (!user.passwordHash) return op.deps.passwords.verifyDummy(password, op.signal).then(() => false);
  const stored = { hash: user.passwordHash, pepperId: user.passwordPepperId ?? null };
  return (await op.deps.passwords.verify(stored, password, op.signal)).ok;
}

/** reauthentication.failed in a transaction of its own; `reason` is left out for a wrong password, as ChangePassword records it. */
function recordFailure(op: Operation, user: User, email: string, reason: string | undefined, locked = false): Promise<void> {
  return inTransaction(op, async (uow) => {
    uow.record({
      type: AuditEventType.reauthenticationFailed,
      subjectUserId: user.id,
      metadata: reason ? { operation: 'reauthenticate', reason } : { operation: 'reauthenticate' },
    });
    if (locked) queueSignInLockedMail(uow, email, user.id);
  });
}

/** INVALID_ARGUMENT on the field whose secret was wrong, reason INVALID_CREDENTIALS (not UNAUTHENTICATED: the session is fine). */
function wrongCredentials(field: 'current_password' | 'code'): DomainError {
  const description =
    field === 'code' ? 'is not a valid code of the active second factor' : 'does not match the account password';
  return new DomainError(
    'invalid_argument',
    field === 'code' ? 'REAU-006' : 'REAU-004',
    `the ${field.replace('_', ' ')} is wrong`,
    {
      reason: 'INVALID_CREDENTIALS',
      violations: [{ field, description }],
    },
  );
}
