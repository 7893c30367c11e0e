import { isUniqueViolation, User, lockUser } from '../../db/index.js';
import type { Operation } from '../kernel/operation.js';
import { AuditEventType } from '../kernel/audit-record.js';
import { signedInUser } from '../kernel/callers.js';
import { DomainError, Violations } from '../kernel/errors.js';
import {
  consumeOneTimeToken,
  invalidOneTimeToken,
  newOneTimeToken,
  openEmailChangeAddress,
  storeOneTimeToken,
} from './one-time-tokens.js';
import { openUserEmail, setUserEmail } from '../kernel/user-email.js';
import { queueEmail } from '../kernel/outbox.js';
import { endUserAccess } from './access-revocation.js';
import { verifyCurrentPassword } from './password-changes.js';
import { limitCallsFromClient } from '../kernel/rate-limit-checks.js';
import { removeProviderLinks } from './social-logins.js';
import { inTransaction } from '../kernel/unit-of-work.js';
import { checkEmail, checkPresentedPassword } from '../kernel/validation.js';

const emailTaken = (id: string, cause?: unknown) =>
  new DomainError('already_exists', id, 'an account with this email already exists', { reason: 'EMAIL_TAKEN', cause });

/**
 * Mails the caller a single-use link that proves they control their address.
 * Each request supersedes the links sent before, up to the address's mail of
 * the hour: past that, the call still answers OK, but nothing is mailed and
 * the last link stays valid.
 */
export async function requestEmailVerification(op: Operation): Promise<void> {
  const caller = signedInUser(op, 'EMLV-001');
  await limitCallsFromClient(op, 'email_verification', 'LIMIT-012');
  const issued = newOneTimeToken('email_verification');
  await inTransaction(op, async (uow) => {
    const user = await uow.em.findOneOrFail(User, caller.userId);
    if (user.emailVerifiedAt) {
      throw new DomainError('failed_precondition', 'EMLV-002', 'the email address is already verified', {
        reason: 'EMAIL_ALREADY_VERIFIED',
      });
    }
    const email = await openUserEmail(uow, user);
    if (!(await op.deps.requestLimits.mayMail('email_verification', email))) {
      uow.record({ type: AuditEventType.emailVerificationRequested, subjectUserId: user.id, metadata: { mail_limited: true } });
      return;
    }
    const ttlSeconds = op.deps.oneTimeTokens.emailVerificationTtlSeconds;
    await storeOneTimeToken(uow, user, 'email_verification', {
      tokenHash: issued.tokenHash,
      email,
      ttlSeconds,
    });
    queueEmail(uow, 'email_verification', { to: email, variables: { token: issued.token } }, user.id);
    uow.record({ type: AuditEventType.emailVerificationRequested, subjectUserId: user.id });
  });
}

/**
 * Starts moving the caller's account to another address. Nothing changes yet:
 * a link goes to the new address, and the account switches when it is used
 * (VerifyEmail). The current password is required, so a stolen access token
 * alone cannot take the account over.
 */
export async function requestEmailChange(op: Operation, input: { newEmail: string; currentPassword: string }): Promise<void> {
  const caller = signedInUser(op, 'EMLV-003');
  const violations = new Violations();
  const newEmail = checkEmail('new_email', input.newEmail, violations);
  const password = checkPresentedPassword('current_password', input.currentPassword, violations);
  violations.throwIfAny('EMLV-004');

  const user = await verifyCurrentPassword(
    op,
    { userId: caller.userId, password, operation: 'request_email_change' },
    'EMLV-005',
  );
  const newEmailIndex = op.deps.emailIndex.of(newEmail);
  if (newEmailIndex === user.emailIndex) {
    throw new DomainError('invalid_argument', 'EMLV-006', 'invalid request: new_email', {
      violations: [{ field: 'new_email', description: 'is already the address of this account' }],
    });
  }
  if ((await op.em.count(User, { emailIndex: newEmailIndex })) > 0) throw emailTaken('EMLV-007');

  const issued = newOneTimeToken('email_change');
  await inTransaction(op, async (uow) => {
    const current = await uow.em.findOneOrFail(User, caller.userId);
    const ttlSeconds = op.deps.oneTimeTokens.emailVerificationTtlSeconds;
    await storeOneTimeToken(uow, current, 'email_change', { tokenHash: issued.tokenHash, email: newEmail, ttlSeconds });
    queueEmail(uow, 'email_change', { to: newEmail, variables: { token: issued.token } }, current.id);
    uow.record({ type: AuditEventType.emailChangeRequested, subjectUserId: current.id });
  });
}

/**
 * Uses a link from RequestEmailVerification or RequestEmailChange: marks the
 * address verified, or switches the account to the new, now verified,
 * address. Single use; a link for an address the account no longer has, or of
 * an account that is not active, is invalid.
 *
 * The first proof of an address ends the account's sessions and removes its
 * provider links: until now the account may have been a squatter's, who
 * registered the address to wait for its owner. A changed address is
 * announced to the old one.
 */
export async function verifyEmail(op: Operation, rawToken: string): Promise<User> {
  try {
    return await inTransaction(op, async (uow) => {
      const token = await consumeOneTimeToken(uow, rawToken, ['email_verification', 'email_change'], 'EMLV-008');
      const user = await lockUser(uow.em, token.user.id);
      if (user.status !== 'active') throw invalidOneTimeToken('EMLV-009');
      const now = op.clock.now();
      if (token.purpose === 'email_verification') {
        if (token.emailIndex !== user.emailIndex) throw invalidOneTimeToken('EMLV-010');
        if (!user.emailVerifiedAt) {
          user.emailVerifiedAt = now;
          await removeProviderLinks(uow, user.id, 'address_proven');
          await endUserAccess(uow, user.id, { cause: 'address_proven', actor: { type: 'user', id: user.id } });
        }
        user.updatedAt = now;
        // The single-use token proves who acts, as a refresh token does.
        uow.record({ type: AuditEventType.emailVerified, subjectUserId: user.id, actor: { type: 'user', id: user.id } });
        return user;
      }
      const oldEmail = await openUserEmail(uow, user);
      await setUserEmail(uow, user, await openEmailChangeAddress(uow, token));
      user.emailVerifiedAt = now;
      user.updatedAt = now;
      // The unique index decides a race with a registration of the same address.
      await uow.em.flush();
      // Links mailed to the old address (a password reset) must not undo the move.
      await endUserAccess(uow, user.id, 'links_only');
      uow.record({ type: AuditEventType.emailChanged, subjectUserId: user.id, actor: { type: 'user', id: user.id } });
      queueEmail(uow, 'email_changed', { to: oldEmail, variables: { at: now.toISOString() } }, user.id);
      return user;
    });
  } catch (err) {
    if (isUniqueViolation(err, 'user_email')) {
      throw emailTaken('EMLV-011', err);
    }
    throw err;
  }
}
