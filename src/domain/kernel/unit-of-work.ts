import { appendAuditEvents, type EntityManager } from '../../db/index.js';
import type { Clock } from '../../clock.js';
import { toAuditRow, type AuditRecord } from './audit-record.js';
import type { RequestContext } from './operation.js';

/** The transaction an operation works in, and where it states its audit events. */
export interface UnitOfWork {
  em: EntityManager;
  /** Queues an audit event; it is written in this transaction, after every other change. */
  record(event: AuditRecord): void;
}

/**
 * Runs `work` in one transaction: entity changes and their audit events commit
 * together or not at all. Audit rows go last so the append lock (see
 * db/audit-log.ts) is held only for the final statements.
 */
export async function inTransaction<T>(
  em: EntityManager,
  ctx: RequestContext,
  clock: Clock,
  work: (uow: UnitOfWork) => Promise<T>,
): Promise<T> {
  return em.transactional(async (tx) => {
    const events: AuditRecord[] = [];
    const result = await work({ em: tx, record: (event) => events.push(event) });
    await tx.flush();
    await appendAuditEvents(
      tx,
      events.map((e) => toAuditRow(e, ctx, clock)),
    );
    return result;
  });
}
