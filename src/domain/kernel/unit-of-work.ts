import { appendAuditEvents } from '../../db/index.js';
import type { FieldCipher } from '../../crypto/field-cipher.js';
import { hasPersonalData, sealAuditPersonalData } from './audit-personal-data.js';
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
    const rows = events.map((e) => toAuditRow(e, op));
    const ciphers = new Map<string, FieldCipher>();
    for (const row of rows) {
      if (row.subjectUserId && hasPersonalData(row) && !ciphers.has(row.subjectUserId)) {
        ciphers.set(row.subjectUserId, await op.deps.userKeys.forWriting(tx, row.subjectUserId));
      }
    }
    await appendAuditEvents(tx, rows, (row, id) => {
      const cipher = row.subjectUserId ? ciphers.get(row.subjectUserId) : undefined;
      return cipher ? sealAuditPersonalData(cipher, row, id) : row;
    });
    return result;
  });
}
