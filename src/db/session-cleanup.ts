import type { EntityManager } from '@mikro-orm/postgresql';
import { Session } from './entities/session.js';

/**
 * Forgets the refresh tokens kept encrypted for the grace window once it
 * ended (rotated before `rotatedBefore`); returns how many.
 */
export function clearExpiredSuccessors(em: EntityManager, rotatedBefore: Date): Promise<number> {
  return em.nativeUpdate(
    Session,
    { successorCiphertext: { $ne: null }, rotatedAt: { $lt: rotatedBefore } },
    { successorCiphertext: null },
  );
}

/** Deletes the rotated-out refresh token hashes of sessions that ended (revoked, or expired by `now`); returns how many. */
export async function pruneEndedRefreshHistory(em: EntityManager, now: Date): Promise<number> {
  const result = await em.getConnection().execute<{ affectedRows: number }>(
    `delete from refresh_token_history h using sessions s
      where s.id = h.session_id and (s.revoked_at is not null or s.expires_at <= ?)`,
    [now],
    'run',
  );
  return result.affectedRows;
}
