import { LockMode, type EntityManager } from '@mikro-orm/postgresql';
import { OneTimeToken, type OneTimeTokenPurpose } from './entities/one-time-token.js';
import { RefreshTokenHistory } from './entities/refresh-token-history.js';
import { ServiceAccount } from './entities/service-account.js';
import { Session } from './entities/session.js';
import { SigningKey } from './entities/signing-key.js';
import type { PageCursor } from './user-query.js';

/**
 * The session whose current refresh token, or any token it rotated out, has
 * this hash, locked until the transaction ends.
 */
export async function lockSessionByRefreshHash(em: EntityManager, hash: string): Promise<Session | null> {
  const lock = { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true } as const;
  const session = await em.findOne(Session, { $or: [{ refreshTokenHash: hash }, { previousRefreshTokenHash: hash }] }, lock);
  if (session) return session;
  const rotated = await em.findOne(RefreshTokenHistory, { tokenHash: hash });
  return rotated ? em.findOne(Session, { id: rotated.session.id }, lock) : null;
}

/** The one-time token with this hash and one of `purposes`, locked until the transaction ends (used or not). */
export function lockOneTimeToken(
  em: EntityManager,
  tokenHash: string,
  purposes: OneTimeTokenPurpose[],
): Promise<OneTimeToken | null> {
  return em.findOne(
    OneTimeToken,
    { tokenHash, purpose: { $in: purposes } },
    { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
  );
}

/** The one-time token with this hash and one of `purposes`, with its user, without locking or using it. */
export function findOneTimeToken(
  em: EntityManager,
  tokenHash: string,
  purposes: OneTimeTokenPurpose[],
): Promise<OneTimeToken | null> {
  return em.findOne(OneTimeToken, { tokenHash, purpose: { $in: purposes } }, { populate: ['user'] });
}

/** The keys to publish at `now`: next and active ones, and retired ones still inside their publication window; oldest first. */
export function findPublishedSigningKeys(em: EntityManager, now: Date): Promise<SigningKey[]> {
  return em.find(
    SigningKey,
    { $or: [{ state: { $in: ['next', 'active'] } }, { state: 'retired', publishUntil: { $gt: now } }] },
    { orderBy: { createdAt: 'asc' } },
  );
}

/** Up to `limit` live service accounts after the keyset position, oldest first. */
export function findServiceAccountPage(
  em: EntityManager,
  after: PageCursor | undefined,
  limit: number,
): Promise<ServiceAccount[]> {
  const keyset = after
    ? { $or: [{ createdAt: { $gt: after.createdAt } }, { createdAt: after.createdAt, id: { $gt: after.id } }] }
    : {};
  return em.find(ServiceAccount, { revokedAt: null, ...keyset }, { orderBy: { createdAt: 'asc', id: 'asc' }, limit });
}
