import type { EntityManager } from '@mikro-orm/postgresql';
import { inStatementSpan } from './traced-driver.js';

/** The slice of knex's client this module uses to borrow one of the ORM's pooled pg connections. */
interface PoolClient {
  acquireConnection(): Promise<{ query<R>(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: R[] }> }>;
  releaseConnection(connection: unknown): Promise<void>;
}

/**
 * Runs a named prepared statement (`$1`-style parameters) on a connection of the
 * ORM's own pool, skipping knex's and MikroORM's per-query work: meant for the
 * few queries that run on every call. PostgreSQL plans it once per connection.
 *
 * Inside a transaction the statement runs on the transaction's connection
 * through the ORM instead, so it sees the transaction's own writes.
 */
export async function preparedQuery<R>(em: EntityManager, name: string, text: string, values: unknown[]): Promise<R[]> {
  const connection = em.getConnection();
  if (em.isInTransaction()) {
    return connection.execute<R[]>(text.replace(/\$\d+/g, '?'), values, 'all', em.getTransactionContext());
  }
  const client = (connection.getKnex() as unknown as { client: PoolClient }).client;
  return inStatementSpan(text, async () => {
    const pg = await client.acquireConnection();
    try {
      return (await pg.query<R>({ name, text, values })).rows;
    } finally {
      await client.releaseConnection(pg);
    }
  });
}
