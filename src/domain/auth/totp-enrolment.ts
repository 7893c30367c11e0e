import { openUserEmail } from '../kernel/user-email.js';
import { deleteSecondFactors, lockTotpFactor, lockUser, TotpFactor, User } from '../../db/index.js';
import { newTotpSecret } from '../../crypto/totp.js';
import { AuditEventType } from '../kernel/audit-record.js';
import { signedInUser } from '../kernel/callers.js';
import { DomainError, Violations } from '../kernel/errors.js';
import type { Operation } from '../kernel/operation.js';
import { inTransaction } from '../kernel/unit-of-work.js';
import { checkPresentedPassword } from '../kernel/validation.js';
import { verifyCurrentPassword } from './password-changes.js';
import { checkTotpCode, issueRecoveryCodes, totpSecretBinding, withVerifiedCode, type CodeCheck } from './second-factor.js';

const wrongCode = (id: string) => () =>
  new DomainError('invalid_argument', id, 'the authenticator code is wrong or was already used', {
    reason: 'INVALID_MFA_CODE',
    violations: [{ field: 'code', description: 'is not a current code of the authenticator' }],
  });

/**
 * Starts an enrolment: a new secret, sealed under the user's data key, waits
 * for ConfirmTotp. A pending one is replaced; a confirmed one is never
 * silently replaced (FAILED_PRECONDITION: disable it first).
 */
export async function enrollTotp(op: Operation): Promise<TotpEnrolment> {
  return startTotpEnrolment(op, signedInUser(op, 'MFA-010').userId);
}

/** A new secret, its otpauth:// URI and the URI as a QR code (PNG). */
export interface TotpEnrolment {
  secret: string;
  uri: string;
  qrPng: Buffer;
}

/** Stores a new pending secret for the user (see enrollTotp). */
export async function startTotpEnrolment(op: Operation, userId: string): Promise<TotpEnrolment> {
  const caller = { userId };
  const account = await op.em.findOneOrFail(User, caller.userId);
  const enrolment = await newTotpSecret(await openUserEmail(op, account));
  return inTransaction(op, async (uow) => {
    // Serializes enrolments of one user: two at once would both insert the factor row.
    await lockUser(uow.em, caller.userId);
    const existing = await lockTotpFactor(uow.em, caller.userId);
    if (existing?.confirmedAt) {
      throw new DomainError('failed_precondition', 'MFA-011', 'an authenticator is already enabled; disable it first', {
        reason: 'TOTP_ALREADY_ENABLED',
      });
    }
    const cipher = await uow.deps.userKeys.forWriting(uow.em, caller.userId);
    const secretCiphertext = cipher.seal(enrolment.secret, totpSecretBinding(caller.userId));
    const now = uow.clock.now();
    if (existing) {
      Object.assign(existing, { secretCiphertext, createdAt: now, lastTimeStep: null });
    } else {
      uow.em.create(TotpFactor, {
        userId: caller.userId,
        secretCiphertext,
        createdAt: now,
        confirmedAt: null,
        lastTimeStep: null,
      });
    }
    uow.record({
      type: AuditEventType.mfaTotpEnrolled,
      subjectUserId: caller.userId,
      metadata: { replaced_pending: !!existing },
    });
    return enrolment;
  });
}

/** Activates the pending authenticator with one of its codes and issues the recovery codes. */
export async function confirmTotp(op: Operation, input: { code: string }): Promise<{ recoveryCodes: string[] }> {
  const caller = signedInUser(op, 'MFA-020');
  const violations = new Violations();
  const code = checkTotpCode('code', input.code, violations);
  violations.throwIfAny('MFA-021');
  const account = await op.em.findOneOrFail(User, caller.userId);
  const check = await accountCodeCheck(op, account, code, { operation: 'confirm_totp', state: 'pending', errorId: 'MFA-022' });
  return withVerifiedCode(op, check, async (uow, factor) => {
    factor.confirmedAt = uow.clock.now();
    const recoveryCodes = await issueRecoveryCodes(uow, account.id);
    uow.record({
      type: AuditEventType.mfaTotpConfirmed,
      subjectUserId: account.id,
      metadata: { recovery_codes: recoveryCodes.length },
    });
    return { recoveryCodes };
  });
}

/**
 * Removes the authenticator and recovery codes. The code is checked (and
 * used up) first, then the password: a right password resets the account's
 * guess count, so it must never come before a code that could be guessed.
 */
export async function disableTotp(op: Operation, input: { code: string; currentPassword: string }): Promise<void> {
  const caller = signedInUser(op, 'MFA-030');
  const violations = new Violations();
  const code = checkTotpCode('code', input.code, violations);
  const password = checkPresentedPassword('current_password', input.currentPassword, violations);
  violations.throwIfAny('MFA-031');
  const account = await op.em.findOneOrFail(User, caller.userId);
  const check = await accountCodeCheck(op, account, code, { operation: 'disable_totp', state: 'confirmed', errorId: 'MFA-032' });
  await withVerifiedCode(op, check, async () => undefined);
  await verifyCurrentPassword(op, { userId: account.id, password, operation: 'disable_totp' }, 'MFA-033');
  await inTransaction(op, async (uow) => {
    await lockUser(uow.em, account.id);
    const removed = await deleteSecondFactors(uow.em, account.id);
    uow.record({
      type: AuditEventType.mfaTotpDisabled,
      subjectUserId: account.id,
      metadata: { recovery_codes_removed: removed.recoveryCodes },
    });
  });
}

/** Replaces the recovery codes, on a current authenticator code. */
export async function regenerateRecoveryCodes(op: Operation, input: { code: string }): Promise<{ recoveryCodes: string[] }> {
  const caller = signedInUser(op, 'MFA-040');
  const violations = new Violations();
  const code = checkTotpCode('code', input.code, violations);
  violations.throwIfAny('MFA-041');
  const account = await op.em.findOneOrFail(User, caller.userId);
  const check = await accountCodeCheck(op, account, code, {
    operation: 'regenerate_recovery_codes',
    state: 'confirmed',
    errorId: 'MFA-042',
  });
  return withVerifiedCode(op, check, async (uow) => {
    const recoveryCodes = await issueRecoveryCodes(uow, account.id);
    uow.record({
      type: AuditEventType.mfaRecoveryCodesRegenerated,
      subjectUserId: account.id,
      metadata: { recovery_codes: recoveryCodes.length },
    });
    return { recoveryCodes };
  });
}

/** A check of an authenticator code of the caller's own account that gives the guess back when right (see withVerifiedCode). */
async function accountCodeCheck(
  op: Operation,
  account: User,
  code: string,
  what: { operation: string; state: 'pending' | 'confirmed'; errorId: string },
): Promise<CodeCheck> {
  return {
    userId: account.id,
    email: await openUserEmail(op, account),
    factor: { totp: code },
    operation: what.operation,
    state: what.state,
    outcome: 'partial',
    wrongCode: wrongCode(what.errorId),
  };
}
