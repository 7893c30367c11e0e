import pg from 'pg';
import { inStatementSpan } from './traced-driver.js';

/** A user's data key as the key store holds it: wrapped by the master key, bound to the user id. */
export interface StoredDataKey {
  userId: string;
  keyId: string;
  wrappedKey: string;
  masterKeyId: string;
}

/** A key's place in the store's creation order (the retention job walks it looking for orphans). */
export interface KeyPosition {
  userId: string;
  createdAt: Date;
}

const COLUMNS = 'user_id as "userId", key_id as "keyId", wrapped_key as "wrappedKey", master_key_id as "masterKeyId"';

/**
 * The users' data keys, in a PostgreSQL database of their own with its own
 * pool: a dump of the main database holds no key, so what erasure destroys
 * here is gone from every copy of the main database too. Every write commits
 * on its own (no transaction spans both databases).
 */
export class PgKeyStore {
  private readonly pool: pg.Pool;

  constructor(readonly url: string) {
    this.pool = new pg.Pool({
      connectionString: url,
      max: 10,
      // As the main pool: during an outage calls fail fast (UNAVAILABLE) instead of queueing.
      connectionTimeoutMillis: 5000,
      application_name: 'tessera-key-store',
    });
    // An idle connection dropped by the server must not crash the process; the next query reconnects.
    this.pool.on('error', () => {});
  }

  private async query<R extends pg.QueryResultRow>(text: string, values: unknown[], name?: string): Promise<R[]> {
    return inStatementSpan(text, async () => (await this.pool.query<R>({ text, values, name })).rows);
  }

  /** The stored keys of these users (erased users have none). */
  find(userIds: readonly string[]): Promise<StoredDataKey[]> {
    if (userIds.length === 0) return Promise.resolve([]);
    return this.query<StoredDataKey>(
      `select ${COLUMNS} from data_keys where user_id = any($1::uuid[])`,
      [userIds],
      'tessera_find_data_keys',
    );
  }

  /** Stores a user's key unless one exists, and returns the stored one: two first writes of a user agree on one key. */
  async insertIfAbsent(key: StoredDataKey, createdAt: Date): Promise<StoredDataKey> {
    const [inserted] = await this.query<StoredDataKey>(
      `insert into data_keys (user_id, key_id, wrapped_key, master_key_id, created_at) values ($1, $2, $3, $4, $5)
       on conflict (user_id) do nothing returning ${COLUMNS}`,
      [key.userId, key.keyId, key.wrappedKey, key.masterKeyId, createdAt],
      'tessera_insert_data_key',
    );
    if (inserted) return inserted;
    const [stored] = await this.find([key.userId]);
    // Destroyed between the two statements (an erasure): try again.
    return stored ?? this.insertIfAbsent(key, createdAt);
  }

  /** Destroys a user's key (erasure); returns how many went (0 when it was already destroyed). */
  async destroy(userId: string): Promise<number> {
    return (await this.query('delete from data_keys where user_id = $1 returning 1', [userId])).length;
  }

  /** Stores keys copied from elsewhere (the main database's former table), keeping any already here. */
  async copyIn(keys: readonly (StoredDataKey & { createdAt: Date })[]): Promise<void> {
    if (keys.length === 0) return;
    await this.query(
      `insert into data_keys (user_id, key_id, wrapped_key, master_key_id, created_at)
       select * from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[])
       on conflict (user_id) do nothing`,
      [
        keys.map((k) => k.userId),
        keys.map((k) => k.keyId),
        keys.map((k) => k.wrappedKey),
        keys.map((k) => k.masterKeyId),
        keys.map((k) => k.createdAt),
      ],
    );
  }

  /** How many keys are wrapped by another master key than `masterKeyId`. */
  async countWrappedByOthers(masterKeyId: string): Promise<number> {
    const [row] = await this.query<{ n: string }>('select count(*)::text as n from data_keys where master_key_id <> $1', [
      masterKeyId,
    ]);
    return Number(row!.n);
  }

  /**
   * Re-wraps up to `limit` keys not under `masterKeyId` in one transaction,
   * rows locked: a concurrent run skips what this one holds and finds it
   * re-wrapped. `rewrap` returns the new wrapping (null: it is already under
   * `masterKeyId`, only its label is corrected).
   */
  async rewrapBatch(masterKeyId: string, limit: number, rewrap: (key: StoredDataKey) => string | null): Promise<number> {
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      const { rows } = await client.query<StoredDataKey>(
        `select ${COLUMNS} from data_keys where master_key_id <> $1 order by user_id limit $2 for update skip locked`,
        [masterKeyId, limit],
      );
      for (const key of rows) {
        await client.query(
          'update data_keys set wrapped_key = coalesce($2, wrapped_key), master_key_id = $3 where user_id = $1',
          [key.userId, rewrap(key), masterKeyId],
        );
      }
      await client.query('commit');
      return rows.length;
    } catch (err) {
      await client.query('rollback').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  /**
   * The next keys created before `createdBefore` that the orphan scan has not
   * looked at yet, in creation order (the scan's cursor lives in this store).
   */
  async orphanCandidates(createdBefore: Date, limit: number): Promise<KeyPosition[]> {
    return this.query<KeyPosition>(
      `select k.user_id as "userId", k.created_at as "createdAt" from data_keys k
        left join orphan_scan_cursor c on true
        where k.created_at < $1 and (c.created_at is null or (k.created_at, k.user_id) > (c.created_at, c.user_id))
        order by k.created_at, k.user_id limit $2`,
      [createdBefore, limit],
    );
  }

  /** Deletes the keys of these users that were created before `createdBefore`, and moves the scan's cursor to `scannedTo`. */
  async deleteOrphans(userIds: readonly string[], createdBefore: Date, scannedTo: KeyPosition): Promise<number> {
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      const { rowCount } = await client.query('delete from data_keys where user_id = any($1::uuid[]) and created_at < $2', [
        userIds,
        createdBefore,
      ]);
      await client.query(
        `insert into orphan_scan_cursor (created_at, user_id) values ($1, $2)
         on conflict (only_row) do update set created_at = excluded.created_at, user_id = excluded.user_id`,
        [scannedTo.createdAt, scannedTo.userId],
      );
      await client.query('commit');
      return rowCount ?? 0;
    } catch (err) {
      await client.query('rollback').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  /** True when the key store answers a trivial query. */
  async ping(): Promise<boolean> {
    try {
      await this.pool.query('select 1');
      return true;
    } catch {
      return false;
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
