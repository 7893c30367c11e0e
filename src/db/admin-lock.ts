import type { EntityManager } from '@mikro-orm/postgresql';

/** Arbitrary constant naming the advisory lock that serializes changes to who is an active administrator. */
const ADMINISTRATORS_LOCK = 0x7e55ad1;

/**
 * Serializes, until the transaction ends, every operation that may take an
 * administrator away (demotion, suspension, deletion). Two administrators
 * demoting each other at once would otherwise both see the other one left.
 * Must run inside a transaction.
 */
export async function lockAdministrators(em: EntityManager): Promise<void> {
  await em.execute('select pg_advisory_xact_lock(?)', [ADMINISTRATORS_LOCK]);
}
