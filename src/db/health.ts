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

/** SQLSTATE 55P03 (lock_not_available): a statement waited `lock_timeout` for a lock. */
const LOCK_NOT_AVAILABLE = '55P03';

/** True when a statement gave up waiting for a lock another session holds (src/db/orm.ts, lock_timeout). */
export function isLockTimeout(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === LOCK_NOT_AVAILABLE;
}

const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '53300']);

/**
 * SQLSTATE 08P01 (protocol_violation) is in class 08 but is the server
 * refusing one message it could not parse, on a connection that still works:
 * a NUL inlined into a statement's text ends the C string early, so the
 * message length no longer adds up. That is bad data, not an outage.
 */
const PROTOCOL_VIOLATION = '08P01';

/**
 * True for errors that mean "the database cannot be reached now" rather than
 * a bug. A statement the database refused for its content (class 22, data
 * exception, e.g. 22021 for a NUL in text, 22P05 for \u0000 in jsonb; or a
 * protocol violation) is never an outage.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  if (e?.code === PROTOCOL_VIOLATION || e?.code?.startsWith('22')) return false;
  if (err instanceof ConnectionException) return true;
  if (!e) return false;
  if (e.code && (UNAVAILABLE_CODES.has(e.code) || e.code.startsWith('08'))) return true;
  // pg's connect timeout is a bare Error('timeout expired'); knex's pool and pg's lost sockets have their own texts.
  return (
    typeof e.message === 'string' && /^timeout expired$|Timeout acquiring a connection|Connection terminated/i.test(e.message)
  );
}
