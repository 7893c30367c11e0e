import type { EntityManager } from '@mikro-orm/postgresql';
import { AuditEvent } from './entities/audit-event.js';

/** The NOTIFY channel that wakes audit stream readers on every instance. */
export const AUDIT_CHANNEL = 'tessera_audit';

/**
 * Arbitrary constant naming the advisory lock that serializes audit inserts.
 * Holding it from the insert to the commit makes event ids become visible in
 * id order, so a reader that resumes "after id N" never skips a late committer.
 */
const AUDIT_APPEND_LOCK = 0x7e55e7a;

export interface NewAuditEvent {
  occurredAt: Date;
  type: string;
  actorType: string;
  actorId: string | null;
  subjectUserId: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  metadata: Record<string, unknown>;
}

/**
 * Inserts audit events as the last statements of the current transaction.
 * Must run inside a transaction: the lock is released by its commit or rollback.
 */
export async function appendAuditEvents(em: EntityManager, events: NewAuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  await em.execute('select pg_advisory_xact_lock(?)', [AUDIT_APPEND_LOCK]);
  await em.insertMany(AuditEvent, events);
  // Delivered only on commit; listeners treat it as a wake-up, the table is the record.
  await em.execute('select pg_notify(?, ?)', [AUDIT_CHANNEL, '']);
}
