import type { EntityManager } from '@mikro-orm/postgresql';
import type { PgKeyStore, StoredDataKey } from './key-store.js';
import { preparedQuery } from './prepared-query.js';

/** Keys moved per main-database transaction. */
const MOVE_BATCH = 500;

/**
 * Moves the data keys earlier versions kept in the main database's
 * `user_keys` into the key store, before the service serves: each batch is
 * copied (a key already in the store stays), then deleted from the main
 * database in the transaction that locked it. Idempotent: after a crash
 * between the two, the next start copies again and deletes. Instances
 * starting together wait for each other's locked rows (no SKIP LOCKED): none
 * serves while a key it may need is still on its way. Returns how many moved.
 */
export async function moveLegacyUserKeys(em: EntityManager, store: PgKeyStore): Promise<number> {
  let moved = 0;
  for (;;) {
    const n = await em.fork().transactional(async (tx) => {
      const rows = await tx.execute<(StoredDataKey & { createdAt: Date })[]>(
        `select user_id as "userId", key_id as "keyId", wrapped_key as "wrappedKey", master_key_id as "masterKeyId",
                created_at as "createdAt"
           from user_keys order by user_id limit ? for update`,
        [MOVE_BATCH],
      );
      if (rows.length === 0) return 0;
      await store.copyIn(rows.map((r) => ({ ...r, createdAt: new Date(r.createdAt) })));
      await preparedQuery(tx, 'tessera_delete_moved_user_keys', 'delete from user_keys where user_id = any($1::uuid[])', [
        rows.map((r) => r.userId),
      ]);
      return rows.length;
    });
    moved += n;
    if (n < MOVE_BATCH) return moved;
  }
}
