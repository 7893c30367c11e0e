import { ConnectionException, type EntityManager } from '@mikro-orm/postgresql';

/** True when the database answers a trivial query within the pool's limits. */
export async function pingDatabase(em: EntityManager): Promise<boolean> {
  try {
    await em.getConnection().execute('select 1');
    return true;
  } catch {
    return false;
  }
}

const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '53300']);

/** True for errors that mean "the database cannot be reached now" rather than a bug. */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (err instanceof ConnectionException) return true;
  const e = err as { code?: string; message?: string } | null;
  if (!e) return false;
  if (e.code && (UNAVAILABLE_CODES.has(e.code) || e.code.startsWith('08'))) return true;
  // pg's connect timeout is a bare Error('timeout expired'); knex's pool and pg's lost sockets have their own texts.
  return (
    typeof e.message === 'string' && /^timeout expired$|Timeout acquiring a connection|Connection terminated/i.test(e.message)
  );
}
