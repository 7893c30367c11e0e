import type { EntityManager } from '@mikro-orm/postgresql';
import { preparedQuery } from './prepared-query.js';

/** A user's wrapped data key as stored. */
export interface UserKeyRow {
  userId: string;
  keyId: string;
  wrappedKey: string;
  masterKeyId: string;
}

const COLUMNS = 'user_id as "userId", key_id as "keyId", wrapped_key as "wrappedKey", master_key_id as "masterKeyId"';

/** The stored keys of these users (erased users have none). */
export function findUserKeys(em: EntityManager, userIds: string[]): Promise<UserKeyRow[]> {
  if (userIds.length === 0) return Promise.resolve([]);
  // Runs inside the caller's transaction when there is one: a second pooled connection per transaction
  // would deadlock the pool under load (every connection held by a transaction waiting for one more).
  return preparedQuery<UserKeyRow>(em, 'tessera_user_keys', `select ${COLUMNS} from user_keys where user_id = any($1::uuid[])`, [
    userIds,
  ]);
}

/**
 * Stores a user's key unless one exists, and returns the stored one: two
 * transactions creating the first key of a user agree on one.
 */
export async function insertUserKeyIfAbsent(em: EntityManager, row: UserKeyRow, createdAt: Date): Promise<UserKeyRow> {
  const [inserted] = await em.execute<UserKeyRow[]>(
    `insert into user_keys (user_id, key_id, wrapped_key, master_key_id, created_at) values (?, ?, ?, ?, ?)
     on conflict (user_id) do nothing returning ${COLUMNS}`,
    [row.userId, row.keyId, row.wrappedKey, row.masterKeyId, createdAt],
  );
  if (inserted) return inserted;
  const [stored] = await em.execute<UserKeyRow[]>(`select ${COLUMNS} from user_keys where user_id = ?`, [row.userId]);
  return stored!;
}
