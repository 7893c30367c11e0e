import { v7 as uuidv7 } from 'uuid';
import { LockMode, type EntityManager } from '@mikro-orm/postgresql';
import { MfaChallenge } from './entities/mfa-challenge.js';
import { RecoveryCode } from './entities/recovery-code.js';
import { TotpFactor } from './entities/totp-factor.js';

const FOR_UPDATE = { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true } as const;

/** The user's TOTP factor (confirmed or not), locked until the transaction ends, or null. */
export function lockTotpFactor(em: EntityManager, userId: string): Promise<TotpFactor | null> {
  return em.findOne(TotpFactor, { userId }, FOR_UPDATE);
}

/** Whether the user has a confirmed TOTP factor. */
export async function hasConfirmedTotp(em: EntityManager, userId: string): Promise<boolean> {
  return (await em.count(TotpFactor, { userId, confirmedAt: { $ne: null } })) > 0;
}

/** The challenge with this hash (used, expired or not), locked until the transaction ends, or null. */
export function lockMfaChallenge(em: EntityManager, challengeHash: string): Promise<MfaChallenge | null> {
  return em.findOne(MfaChallenge, { challengeHash }, FOR_UPDATE);
}

/** The challenge with this hash, without locking it, or null. */
export function findMfaChallenge(em: EntityManager, challengeHash: string): Promise<MfaChallenge | null> {
  return em.findOne(MfaChallenge, { challengeHash });
}

/** The user's unused recovery code with this hash, locked until the transaction ends, or null. */
export function lockUnusedRecoveryCode(em: EntityManager, userId: string, codeHash: string): Promise<RecoveryCode | null> {
  return em.findOne(RecoveryCode, { userId, codeHash, usedAt: null }, FOR_UPDATE);
}

/** What a user has enrolled as second factors, without any secret: what an export tells. */
export interface SecondFactorSummary {
  totp: { enrolledAt: Date; confirmedAt: Date | null } | null;
  unusedRecoveryCodes: number;
}

/** The user's second factors as a SecondFactorSummary (the TOTP secret is not read). */
export async function summarizeSecondFactors(em: EntityManager, userId: string): Promise<SecondFactorSummary> {
  const totp = await em.findOne(TotpFactor, { userId }, { fields: ['createdAt', 'confirmedAt'], disableIdentityMap: true });
  return {
    totp: totp ? { enrolledAt: totp.createdAt, confirmedAt: totp.confirmedAt ?? null } : null,
    unusedRecoveryCodes: await countUnusedRecoveryCodes(em, userId),
  };
}

/** How many of the user's recovery codes are still unused. */
export function countUnusedRecoveryCodes(em: EntityManager, userId: string): Promise<number> {
  return em.count(RecoveryCode, { userId, usedAt: null });
}

/** Removes the user's second factors: the TOTP factor, every recovery code and every pending challenge. */
export async function deleteSecondFactors(em: EntityManager, userId: string): Promise<{ totp: boolean; recoveryCodes: number }> {
  const totp = await em.nativeDelete(TotpFactor, { userId });
  const recoveryCodes = await em.nativeDelete(RecoveryCode, { userId });
  await em.nativeDelete(MfaChallenge, { userId });
  return { totp: totp > 0, recoveryCodes };
}

/** Replaces the user's recovery codes with these hashes. */
export async function replaceRecoveryCodes(em: EntityManager, userId: string, hashes: string[], now: Date): Promise<void> {
  await em.nativeDelete(RecoveryCode, { userId });
  for (const codeHash of hashes) {
    em.create(RecoveryCode, { id: uuidv7(), userId, codeHash, createdAt: now, usedAt: null });
  }
}
