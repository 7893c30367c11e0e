import { appendAuditEvents } from '../../db/index.js';
import { toAuditRow, type AuditRecord } from './audit-record.js';
import type { Operation } from './operation.js';

/** An operation inside its transaction (`em` is the transaction's), and where it states its audit events. */
export interface UnitOfWork extends Operation {
  /** Queues an audit event; it is written in this transaction, after every other change. */
  record(event: AuditRecord): void;
}

/**
 * Runs `work` in one transaction: entity changes and their audit events commit
 * together or not at all. Audit rows go last so the append lock (see
 * db/audit-log.ts) is held only for the final statements.
 */
export async function inTransaction<T>(op: Operation, work: (uow: UnitOfWork) => Promise<T>): Promise<T> {
  return op.em.transactional(async (tx) => {
    const events: AuditRecord[] = [];
    const result = await work({ ...op, em: tx, record: (event) => events.push(event) });
    await tx.flush();
    await appendAuditEvents(
      tx,
      events.map((e) => toAuditRow(e, op)),
    );
    return result;
  });
}
