import type { EntityManager } from '@mikro-orm/postgresql';
import { preparedQuery } from './prepared-query.js';

/** What an authenticated call needs to know about its session, read in one query. */
export interface SessionState {
  sessionId: string;
  userId: string;
  expiresAt: Date;
  revokedAt: Date | null;
  userStatus: string;
  userRole: string;
}

/**
 * Reads a session and its user with one prepared primary-key query, off the
 * ORM's and knex's query path: this runs on every authenticated call.
 */
export async function findSessionState(em: EntityManager, sessionId: string): Promise<SessionState | null> {
  const rows = await preparedQuery<{
    id: string;
    user_id: string;
    expires_at: Date;
    revoked_at: Date | null;
    status: string;
    role: string;
  }>(
    em,
    'tessera_session_state',
    `select s.id, s.user_id, s.expires_at, s.revoked_at, u.status, u.role
       from sessions s join users u on u.id = s.user_id
      where s.id = $1`,
    [sessionId],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    sessionId: row.id,
    userId: row.user_id,
    expiresAt: new Date(row.expires_at),
    revokedAt: row.revoked_at ? new Date(row.revoked_at) : null,
    userStatus: row.status,
    userRole: row.role,
  };
}
