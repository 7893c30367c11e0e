import { v7 as uuidv7 } from 'uuid';
import { lockOneTimeToken, OneTimeToken, type OneTimeTokenPurpose, type User } from '../../db/index.js';
import { generateOpaqueSecret, hashBearerSecret } from '../../crypto/random.js';
import { DomainError } from '../kernel/errors.js';
import type { UnitOfWork } from '../kernel/unit-of-work.js';
import { openField } from '../kernel/user-data-keys.js';

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
 * earlier unused tokens of the same purpose: only the newest mail works.
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
  // Only an email change needs its address back (to switch to it); the others compare indexes.
  const emailCiphertext =
    purpose === 'email_change'
      ? (await uow.deps.userKeys.forWriting(uow.em, user.id)).seal(issued.email, tokenEmailBinding(id))
      : null;
  uow.em.create(OneTimeToken, {
    id,
    user,
    purpose,
    tokenHash: issued.tokenHash,
    emailIndex: uow.deps.emailIndex.of(issued.email),
    emailCiphertext,
    createdAt: now,
    expiresAt: new Date(now.getTime() + issued.ttlSeconds * 1000),
    consumedAt: null,
  });
}

/** The associated data of an email change token's sealed address. */
export function tokenEmailBinding(tokenId: string): string {
  return `one_time_tokens.email:${tokenId}`;
}

/** The new address of an email change token, opened with its user's data key. */
export async function openEmailChangeAddress(uow: UnitOfWork, token: OneTimeToken): Promise<string> {
  const cipher = (await uow.deps.userKeys.forReading(uow.em, [token.user.id])).get(token.user.id);
  return openField(cipher, token.emailCiphertext, tokenEmailBinding(token.id));
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
): Promise<OneTimeToken> {
  if (!isOneTimeTokenShape(rawToken)) throw invalidOneTimeToken(errorId);
  const now = uow.clock.now();
  const row = await lockOneTimeToken(uow.em, hashBearerSecret(rawToken), purposes);
  if (!row || row.consumedAt || row.expiresAt <= now) throw invalidOneTimeToken(errorId);
  row.consumedAt = now;
  return row;
}
