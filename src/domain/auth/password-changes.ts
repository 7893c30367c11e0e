import { OneTimeToken, User, lockUser } from '../../db/index.js';
import type { Operation } from '../kernel/operation.js';
import { hashBearerSecret } from '../../crypto/random.js';
import { AuditEventType } from '../kernel/audit-record.js';
import { signedInUser } from '../kernel/callers.js';
import { DomainError, Violations } from '../kernel/errors.js';
import {
  consumeOneTimeToken,
  invalidOneTimeToken,
  isOneTimeTokenShape,
  newOneTimeToken,
  storeOneTimeToken,
} from './one-time-tokens.js';
import { queueEmail } from '../kernel/outbox.js';
import { limitCallsFromClient, reserveGuess } from '../kernel/rate-limit-checks.js';
import { endUserAccess } from './access-revocation.js';
import { removeProviderLinks } from './social-logins.js';
import { inTransaction, type UnitOfWork } from '../kernel/unit-of-work.js';
import { queueSignInLockedMail } from './sign-in-lock.js';
import { checkEmail, checkNewPassword, checkPresentedPassword } from '../kernel/validation.js';
import { openUserEmail } from '../kernel/user-email.js';

/**
 * Re-authentication for sensitive changes: checks the signed-in user's
 * current password. The guess is counted with Login's (same account key,
 * see kernel/rate-limits.ts), so a stolen access token is no guessing oracle.
 * A wrong one is audited (reauthentication.failed) and refused as
 * INVALID_ARGUMENT on current_password, reason INVALID_CREDENTIALS, so that
 * clients do not mistake it for an expired session.
 */
export async function verifyCurrentPassword(
  op: Operation,
  input: { userId: string; password: string; operation: string },
  errorId: string,
): Promise<User> {
  const user = await op.em.findOneOrFail(User, input.userId, { populate: ['passwordHash'] });
  const recordFailure = (metadata: Record<string, string>, also?: (uow: UnitOfWork) => void) =>
    inTransaction(op, async (uow) => {
      uow.record({ type: AuditEventType.reauthenticationFailed, subjectUserId: user.id, metadata });
      also?.(uow);
    });
  // The same account key as Login's: the normalized address.
  const email = await openUserEmail(op, user);
  const guess = await reserveGuess(op, email, 'LIMIT-002', () =>
    recordFailure({ operation: input.operation, reason: 'too_many_attempts' }),
  );
  const check = user.passwordHash
    ? await op.deps.passwords.verify(
        { hash: user.passwordHash, pepperId: user.passwordPepperId ?? null },
        input.password,
        op.signal,
      )
    : { ok: await op.deps.passwords.verifyDummy(input.password, op.signal) };
  if (check.ok) {
    await guess.succeeded();
    // The client gave up while the password was checked: change nothing it will never hear of.
    op.signal.throwIfAborted();
    return user;
  }
  const { locked } = await guess.failed();
  await recordFailure({ operation: input.operation }, (uow) => {
    if (locked) queueSignInLockedMail(uow, email, user.id);
  });
  throw new DomainError('invalid_argument', errorId, 'the current password is wrong', {
    reason: 'INVALID_CREDENTIALS',
    violations: [{ field: 'current_password', description: 'does not match the account password' }],
  });
}

/**
 * Changes the signed-in user's password. Needs the current one; every other
 * session of the user ends (the calling one stays signed in), and so does
 * every pending one-time link.
 */
export async function changePassword(
  op: Operation,
  input: { currentPassword: string; newPassword: string },
): Promise<{ sessionsRevoked: number }> {
  const caller = signedInUser(op, 'PWCH-001');
  const violations = new Violations();
  const current = checkPresentedPassword('current_password', input.currentPassword, violations);
  violations.throwIfAny('PWCH-002');
  const user = await verifyCurrentPassword(
    op,
    { userId: caller.userId, password: current, operation: 'change_password' },
    'PWCH-003',
  );
  const email = await openUserEmail(op, user);
  const password = checkNewPassword('new_password', input.newPassword, violations, email);
  violations.throwIfAny('PWCH-004');
  const stored = await op.deps.passwords.hash(password, op.signal);

  return inTransaction(op, async (uow) => {
    const now = op.clock.now();
    const locked = await lockUser(uow.em, caller.userId);
    locked.passwordHash = stored.hash;
    locked.passwordPepperId = stored.pepperId;
    locked.updatedAt = now;
    const sessionsRevoked = await endUserAccess(uow, locked.id, { cause: 'password_changed', keep: caller.sessionId });
    uow.record({
      type: AuditEventType.passwordChanged,
      subjectUserId: locked.id,
      metadata: { sessions_revoked: sessionsRevoked },
    });
    queueEmail(uow, 'password_changed', { to: email, variables: { at: now.toISOString() } }, locked.id);
    return { sessionsRevoked };
  });
}

/**
 * Mails a password reset link to the address, if it belongs to an active
 * account. The caller learns nothing: the answer is the same, and takes the
 * same work (the client's call and the address's mail are counted, a token is
 * made, hashed and sealed, and one transaction with an audit event commits)
 * whether or not the account exists; only a real account's transaction also
 * stores the token and queues the mail, and only while the address has mail
 * left this hour (past that, the link mailed before stays valid).
 */
export async function requestPasswordReset(op: Operation, rawEmail: string): Promise<void> {
  await limitCallsFromClient(op, 'password_reset', 'LIMIT-011');
  const violations = new Violations();
  const email = checkEmail('email', rawEmail, violations);
  violations.throwIfAny('PWRS-001');

  const mayMail = await op.deps.requestLimits.mayMail('password_reset', email);
  const issued = newOneTimeToken('password_reset');
  await inTransaction(op, async (uow) => {
    const user = await uow.em.findOne(User, { emailIndex: op.deps.emailIndex.of(email) });
    if (!user || user.status !== 'active') {
      uow.record({ type: AuditEventType.passwordResetRequested, metadata: { account_found: false } });
      return;
    }
    if (!mayMail) {
      uow.record({
        type: AuditEventType.passwordResetRequested,
        subjectUserId: user.id,
        metadata: { account_found: true, mail_limited: true },
      });
      return;
    }
    const ttlSeconds = op.deps.oneTimeTokens.passwordResetTtlSeconds;
    // `email` is the account's address: it matched the index.
    await storeOneTimeToken(uow, user, 'password_reset', { tokenHash: issued.tokenHash, email, ttlSeconds });
    queueEmail(uow, 'password_reset', { to: email, variables: { token: issued.token } }, user.id);
    uow.record({ type: AuditEventType.passwordResetRequested, subjectUserId: user.id, metadata: { account_found: true } });
  });
}

/**
 * Sets a new password with a reset link's token. The token works once and
 * until it expires; every session and every other pending link of the user
 * ends, and the address counts as verified (the link proved control of it).
 * If it was never verified before, the provider links go too: whoever made
 * them had not proved the address.
 */
export async function resetPassword(
  op: Operation,
  input: { token: string; newPassword: string },
): Promise<{ sessionsRevoked: number }> {
  // The policy needs the account's email, and hashing is slow: look the token up before the transaction.
  if (!isOneTimeTokenShape(input.token)) throw invalidOneTimeToken('PWRS-002');
  const pending = await op.em.findOne(
    OneTimeToken,
    { tokenHash: hashBearerSecret(input.token), purpose: 'password_reset' },
    { populate: ['user'] },
  );
  if (!pending || pending.consumedAt || pending.expiresAt <= op.clock.now() || pending.user.status !== 'active') {
    throw invalidOneTimeToken('PWRS-003');
  }
  const violations = new Violations();
  const email = await openUserEmail(op, pending.user);
  const password = checkNewPassword('new_password', input.newPassword, violations, email);
  violations.throwIfAny('PWRS-004');
  const stored = await op.deps.passwords.hash(password, op.signal);

  return inTransaction(op, async (uow) => {
    const token = await consumeOneTimeToken(uow, input.token, ['password_reset'], 'PWRS-005');
    const user = await lockUser(uow.em, token.user.id);
    if (user.status !== 'active') throw invalidOneTimeToken('PWRS-006');
    const now = op.clock.now();
    user.passwordHash = stored.hash;
    user.passwordPepperId = stored.pepperId;
    if (token.emailIndex === user.emailIndex && !user.emailVerifiedAt) {
      user.emailVerifiedAt = now;
      await removeProviderLinks(uow, user.id, 'address_proven');
    }
    user.updatedAt = now;
    // The single-use reset token proves who acts.
    const actor = { type: 'user', id: user.id } as const;
    const sessionsRevoked = await endUserAccess(uow, user.id, { cause: 'password_reset', actor });
    uow.record({
      type: AuditEventType.passwordResetCompleted,
      subjectUserId: user.id,
      actor,
      metadata: { sessions_revoked: sessionsRevoked },
    });
    queueEmail(
      uow,
      'password_reset_completed',
      { to: await openUserEmail(uow, user), variables: { at: now.toISOString() } },
      user.id,
    );
    return { sessionsRevoked };
  });
}
