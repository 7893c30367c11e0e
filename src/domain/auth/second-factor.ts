// Checking a second-factor code: counted by the guess limiter, verified under a row lock, single use.
import { lockTotpFactor, lockUnusedRecoveryCode, countUnusedRecoveryCodes, replaceRecoveryCodes } from '../../db/index.js';
import type { TotpFactor } from '../../db/index.js';
import { hashRecoveryCode, newRecoveryCode, normalizeRecoveryCode } from '../../crypto/recovery-codes.js';
import { verifyTotpCode } from '../../crypto/totp.js';
import { AuditEventType } from '../kernel/audit-record.js';
import { DomainError, type Violations } from '../kernel/errors.js';
import type { Operation } from '../kernel/operation.js';
import { reserveGuess } from '../kernel/rate-limit-checks.js';
import { inTransaction, type UnitOfWork } from '../kernel/unit-of-work.js';
import { queueSignInLockedMail } from './sign-in-lock.js';

/**
 * RFC 8176 authentication methods of a sign-in. A recovery code is a NIST
 * SP 800-63B look-up secret, a something-you-have factor RFC 8176 has no
 * value for: "otp" would claim an authenticator device and "kba" a
 * knowledge question, so it is the documented custom value "lookup".
 */
export const AMR = { password: 'pwd', otp: 'otp', mfa: 'mfa', recoveryCode: 'lookup' } as const;

/** How many recovery codes a confirmation or regeneration issues. */
const RECOVERY_CODE_COUNT = 10;

const TOTP_CODE = /^[0-9]{6}$/;

/** The associated data of a sealed TOTP secret: the row it belongs to. */
export function totpSecretBinding(userId: string): string {
  return `totp_factors.secret:${userId}`;
}

/** A 6-digit authenticator code, or a violation on `field`. */
export function checkTotpCode(field: string, raw: string, violations: Violations): string {
  const code = raw.trim();
  if (!TOTP_CODE.test(code)) violations.add(field, 'must be the 6 digits of the authenticator app');
  return code;
}

/** A recovery code in canonical form, or a violation on `field`. */
export function checkRecoveryCode(field: string, raw: string, violations: Violations): string {
  const code = normalizeRecoveryCode(raw);
  if (code === null) violations.add(field, 'must be a recovery code: 16 letters and digits, dashes optional');
  return code ?? '';
}

/** Replaces the user's recovery codes with ten new ones, returned in clear this once. */
export async function issueRecoveryCodes(uow: UnitOfWork, userId: string): Promise<string[]> {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
  const hashes = codes.map((code) => hashRecoveryCode(userId, normalizeRecoveryCode(code)!));
  await replaceRecoveryCodes(uow.em, userId, hashes, uow.clock.now());
  return codes;
}

/** The second factor presented: an authenticator code or a recovery code (canonical). */
export type PresentedFactor = { totp: string } | { recoveryCode: string };

/** What a verified code proved, for the session's amr. */
export type VerifiedMethod = 'totp' | 'recovery_code';

export interface CodeCheck {
  userId: string;
  /** The account key of the guess limiter: the user's email, as for passwords. */
  email: string;
  factor: PresentedFactor;
  /** The operation named in mfa.verification_failed ("login", "confirm_totp", ...). */
  operation: string;
  /** Which factor state the code must belong to: a confirmed one, or one being enrolled. */
  state: 'confirmed' | 'pending';
  /**
   * After a right code: "complete" resets the account's count of wrong
   * guesses (the whole proof is done); "partial" only gives the guess back.
   */
  outcome: 'complete' | 'partial';
  /** The error for a wrong code (its id names the raising site). */
  wrongCode: () => DomainError;
}

type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

/**
 * Counts a guess, then in one transaction locks the user's factor, checks the
 * code (a TOTP step is accepted once; a recovery code is used up) and runs
 * `action`. A wrong code commits nothing but its audit event, and locks the
 * account once the guess limit is reached, as wrong passwords do.
 */
export async function withVerifiedCode<T>(
  op: Operation,
  check: CodeCheck,
  action: (uow: UnitOfWork, factor: TotpFactor, method: VerifiedMethod) => Promise<T>,
  before?: (uow: UnitOfWork) => Promise<void>,
): Promise<T> {
  const method: VerifiedMethod = 'totp' in check.factor ? 'totp' : 'recovery_code';
  const recordFailure = (reason: string, locked = false) =>
    inTransaction(op, async (uow) => {
      uow.record({
        type: AuditEventType.mfaVerificationFailed,
        subjectUserId: check.userId,
        metadata: { operation: check.operation, method, reason },
      });
      if (locked) queueSignInLockedMail(uow, check.email, check.userId);
    });
  const guess = await reserveGuess(op, check.email, 'LIMIT-021', () => recordFailure('too_many_attempts'));
  op.signal.throwIfAborted();

  const result = await inTransaction<Checked<T>>(
    op,
    async (uow) => {
      await before?.(uow);
      const factor = await lockTotpFactor(uow.em, check.userId);
      const wantConfirmed = check.state === 'confirmed';
      if (!factor || (factor.confirmedAt !== null) !== wantConfirmed) {
        throw new DomainError('failed_precondition', 'MFA-001', 'the account has no authenticator in the required state', {
          reason: wantConfirmed ? 'TOTP_NOT_ENABLED' : 'TOTP_NOT_ENROLLED',
        });
      }
      const reason =
        'totp' in check.factor ? await useTotpCode(uow, factor, check.factor.totp) : await useRecoveryCode(uow, check);
      if (reason) return { ok: false, reason };
      return { ok: true, value: await action(uow, factor, method) };
    },
    { whileCallerWaits: true },
  );
  if (result.ok) {
    await (check.outcome === 'complete' ? guess.succeeded() : guess.passed());
    return result.value;
  }
  const { locked } = await guess.failed();
  await recordFailure(result.reason, locked);
  throw check.wrongCode();
}

/** Accepts the code once: records its time step, so it and older codes are refused from now on. Returns why it failed. */
export async function useTotpCode(uow: UnitOfWork, factor: TotpFactor, code: string): Promise<string | undefined> {
  const cipher = (await uow.deps.userKeys.forReading(uow.em, [factor.userId])).get(factor.userId);
  if (!cipher) return 'no_data_key';
  const secret = cipher.open(factor.secretCiphertext, totpSecretBinding(factor.userId));
  const now = uow.clock.now();
  const step = await verifyTotpCode(secret, code, now, factor.lastTimeStep ?? null);
  if (step !== null) {
    factor.lastTimeStep = step;
    return undefined;
  }
  // Told apart only for the audit trail: the caller gets the same error.
  return (await verifyTotpCode(secret, code, now, null)) === null ? 'wrong_code' : 'replayed_code';
}

async function useRecoveryCode(uow: UnitOfWork, check: CodeCheck): Promise<string | undefined> {
  if (!('recoveryCode' in check.factor)) return 'wrong_recovery_code';
  const row = await lockUnusedRecoveryCode(uow.em, check.userId, hashRecoveryCode(check.userId, check.factor.recoveryCode));
  if (!row) return 'wrong_recovery_code';
  row.usedAt = uow.clock.now();
  await uow.em.flush();
  uow.record({
    type: AuditEventType.mfaRecoveryCodeUsed,
    subjectUserId: check.userId,
    metadata: { operation: check.operation, remaining: await countUnusedRecoveryCodes(uow.em, check.userId) },
  });
  return undefined;
}
