import type { EntityManager } from '@mikro-orm/postgresql';
import { inStatementSpan } from './traced-driver.js';

/** A pooled pg connection, as knex hands it out. */
interface PgConnection {
  query<R>(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: R[] }>;
}

/** The slice of knex's client this module uses to borrow one of the ORM's pooled pg connections. */
interface PoolClient {
  acquireConnection(): Promise<PgConnection>;
  releaseConnection(connection: unknown): Promise<void>;
}

/**
 * Runs a named prepared statement (`$1`-style parameters) on a connection of the
 * ORM's own pool, skipping knex's and MikroORM's per-query work: meant for the
 * few queries that run on every call. PostgreSQL plans it once per connection.
 *
 * Inside a transaction it runs on the transaction's own connection (knex's
 * transaction client always hands out that one and never releases it), so it
 * sees, and is part of, the transaction's writes.
 */
export async function preparedQuery<R>(em: EntityManager, name: string, text: string, values: unknown[]): Promise<R[]> {
  const client = em.isInTransaction()
    ? (em.getTransactionContext() as unknown as { client: PoolClient }).client
    : (em.getConnection().getKnex() as unknown as { client: PoolClient }).client;
  return inStatementSpan(text, async () => {
    const pg = await client.acquireConnection();
    try {
      return (await pg.query<R>({ name, text, values })).rows;
    } finally {
      await client.releaseConnection(pg);
    }
  });
}
