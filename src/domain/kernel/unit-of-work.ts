import { appendAuditEvents } from '../../db/index.js';
import type { FieldCipher } from '../../crypto/field-cipher.js';
import { hasPersonalData, sealAuditPersonalData } from './audit-personal-data.js';
import { toAuditRow, type AuditRecord } from './audit-record.js';
import { DomainError } from './errors.js';
import type { Operation } from './operation.js';

/**
 * What a commit and its answer need to reach the client: a transaction that
 * would commit later than this before the deadline rolls back instead (the
 * server learns the deadline a little after the client set it, and its
 * timers run late under load).
 */
const ANSWER_MARGIN_MS = 50;

/** An operation inside its transaction (`em` is the transaction's), and where it states its audit events. */
export interface UnitOfWork extends Operation {
  /** Queues an audit event; it is written in this transaction, after every other change. */
  record(event: AuditRecord): void;
  /**
   * Queues a step outside the database (the key store) to run last, after the
   * audit events and the deadline check, just before the commit: it runs only
   * if everything else of the transaction succeeded. Nothing undoes it if the
   * commit then fails, so it must be safe to run again on a retry.
   */
  lastly(step: () => Promise<unknown>): void;
  /**
   * Runs a write statement that also draws the ids of the events recorded so
   * far (`count` of them; see drawAuditIdsSql in db/audit-log.ts), saving the
   * round trip that would draw them before the audit insert. Meant for the
   * transaction's last write: an id drawn holds streams back until the commit.
   */
  writeDrawingAuditIds(write: (count: number) => Promise<string[]>): Promise<void>;
}

/**
 * Runs `work` in one transaction: entity changes and their audit events commit
 * together or not at all. Audit rows go last: their ids are drawn
 * just before the commit, so a stream holds back later events (see
 * db/audit-horizon.ts) only for the final statements. With
 * `whileCallerWaits`, a call whose client gave up (deadline, cancel) before
 * the commit rolls back instead: no change the client will never hear of.
 */
export async function inTransaction<T>(
  op: Operation,
  work: (uow: UnitOfWork) => Promise<T>,
  options: { whileCallerWaits?: boolean } = {},
): Promise<T> {
  return op.em.transactional(async (tx) => {
    const events: { record: AuditRecord; id?: string }[] = [];
    const lastSteps: (() => Promise<unknown>)[] = [];
    const result = await work({
      ...op,
      em: tx,
      record: (record) => events.push({ record }),
      lastly: (step) => lastSteps.push(step),
      writeDrawingAuditIds: async (write) => {
        const pending = events.filter((event) => event.id === undefined);
        const ids = await write(pending.length);
        pending.forEach((event, i) => (event.id = ids[i]));
      },
    });
    await tx.flush();
    const rows = events.map((e) => ({ ...toAuditRow(e.record, op), id: e.id }));
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
    if (options.whileCallerWaits) assertCallerWaits(op);
    for (const step of lastSteps) await step();
    return result;
  });
}

/** Throws when the client gave up, or its deadline is too close for the answer to arrive. */
function assertCallerWaits(op: Operation): void {
  op.signal.throwIfAborted();
  if (op.deadline !== undefined && Date.now() > op.deadline - ANSWER_MARGIN_MS) {
    throw new DomainError('deadline_exceeded', 'UOW-001', 'the deadline passes before the answer could arrive');
  }
}
