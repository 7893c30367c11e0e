import { v7 as uuidv7 } from 'uuid';
import { lockOneTimeToken, OneTimeToken, type OneTimeTokenPurpose, type User } from '../../db/index.js';
import { generateOpaqueSecret, hashBearerSecret } from '../../crypto/random.js';
import { DomainError } from '../kernel/errors.js';
import { openField, sealField } from '../kernel/user-data-keys.js';
import type { UnitOfWork } from '../kernel/unit-of-work.js';

/** Readable prefixes, so a leaked token says what it is (and secret scanners can find it). */
const PREFIXES: Record<OneTimeTokenPurpose, string> = {
  email_verification: 'tev_',
  email_change: 'tec_',
  password_reset: 'tpr_',
};

/** Prefix + 256 random bits in base64url (43 characters). */
const TOKEN_SHAPE = /^t(ev|ec|pr)_[A-Za-z0-9_-]{43}$/;

/** The one answer for a token that is malformed, unknown, expired, used or superseded. */
export const invalidOneTimeToken = (id: string) =>
  new DomainError('invalid_argument', id, 'the token is invalid, expired or already used', {
    reason: 'INVALID_ONE_TIME_TOKEN',
    violations: [{ field: 'token', description: 'is invalid, expired or already used' }],
  });

/** Makes a single-use token for a purpose, before any transaction: the secret and the hash to store. */
export function newOneTimeToken(purpose: OneTimeTokenPurpose): { token: string; tokenHash: string } {
  const token = generateOpaqueSecret(PREFIXES[purpose]);
  return { token, tokenHash: hashBearerSecret(token) };
}

/**
 * Stores a token's hash for `user` (never the token) and supersedes the user's
 * earlier unused tokens of the same purpose: only the newest mail works. The
 * address the token is for is sealed under the user's data key, so erasure
 * shreds it and no table holds a pending address in clear.
 */
export async function storeOneTimeToken(
  uow: UnitOfWork,
  user: User,
  purpose: OneTimeTokenPurpose,
  issued: { tokenHash: string; email: string; ttlSeconds: number },
): Promise<void> {
  const now = uow.clock.now();
  await uow.em.nativeUpdate(OneTimeToken, { user: user.id, purpose, consumedAt: null }, { consumedAt: now });
  const id = uuidv7();
  const cipher = await uow.deps.userKeys.forWriting(uow.em, user.id);
  uow.em.create(OneTimeToken, {
    id,
    user,
    purpose,
    tokenHash: issued.tokenHash,
    email: sealField(cipher, issued.email, emailBinding(id)),
    createdAt: now,
    expiresAt: new Date(now.getTime() + issued.ttlSeconds * 1000),
    consumedAt: null,
  });
}

/** The associated data of a token's sealed address: it belongs to this token's row. */
function emailBinding(tokenId: string): string {
  return `one_time_tokens.email:${tokenId}`;
}

/** A used token: whose, what for, and the address it was sent to (opened). */
export interface ConsumedToken {
  user: User;
  purpose: OneTimeTokenPurpose;
  email: string;
}

/** Whether a string has the shape of a one-time token (checked before any lookup). */
export function isOneTimeTokenShape(raw: string): boolean {
  return TOKEN_SHAPE.test(raw);
}

/**
 * Finds a usable token of one of `purposes` and marks it used, under a row
 * lock, so two concurrent uses cannot both succeed. Throws the single
 * invalid-token error otherwise.
 */
export async function consumeOneTimeToken(
  uow: UnitOfWork,
  rawToken: string,
  purposes: OneTimeTokenPurpose[],
  errorId: string,
): Promise<ConsumedToken> {
  if (!isOneTimeTokenShape(rawToken)) throw invalidOneTimeToken(errorId);
  const now = uow.clock.now();
  const row = await lockOneTimeToken(uow.em, hashBearerSecret(rawToken), purposes);
  if (!row || row.consumedAt || row.expiresAt <= now) throw invalidOneTimeToken(errorId);
  row.consumedAt = now;
  const [cipher] = (await uow.deps.userKeys.forReading(uow.em, [row.user.id])).values();
  return { user: row.user, purpose: row.purpose, email: openField(cipher, row.email, emailBinding(row.id)) };
}
