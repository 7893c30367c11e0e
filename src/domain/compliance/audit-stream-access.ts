import { checkAuditFilter, type AuditFilter } from './audit-filter.js';
import type { AuditEvent } from '../../db/index.js';
import { isEventId } from './audit-trail.js';
import { recheckCaller } from '../auth/caller-recheck.js';
import { DomainError, Violations } from '../kernel/errors.js';
import type { Operation } from '../kernel/operation.js';

/** A live subscription to the audit trail: iterate it for events in id order; close it to let go. */
export interface AuditEventSubscription extends AsyncIterable<AuditEvent> {
  close(reason?: DomainError | 'done'): void;
  /** When `event` was read from the table (performance.now()): it had committed by then. */
  readAt(event: AuditEvent): number;
}

/** Where live audit events come from (the stream hub of this instance, started by the composition root). */
export interface AuditEventFeed {
  subscribe(filter: AuditFilter, afterEventId: string | undefined): Promise<AuditEventSubscription>;
}

/** What a stream's caller must keep holding while it reads the trail. */
const STREAM_PERMISSION = 'audit:read';

/**
 * Validates a stream request and subscribes. The subscription closes when
 * the operation's signal aborts (client cancelled, deadline, shutdown),
 * failing the iteration with the abort's reason, so nothing stays
 * registered. Before events are handed out the caller is checked again
 * (recheckCaller, once per batch read from the table): the stream ends with UNAUTHENTICATED or PERMISSION_DENIED
 * instead of delivering anything written after the caller lost access.
 */
export async function openAuditStream(
  op: Operation,
  feed: AuditEventFeed,
  rawFilter: AuditFilter,
  afterEventId: string | undefined,
): Promise<AuditEventSubscription> {
  const violations = new Violations();
  const filter = checkAuditFilter('filter', rawFilter, violations);
  if (afterEventId !== undefined && !isEventId(afterEventId)) {
    violations.add('after_event_id', 'must be zero or a positive event id');
  }
  violations.throwIfAny('STREAM-003');
  const subscription = await feed.subscribe(filter, afterEventId);
  const { signal } = op;
  const onAbort = () =>
    subscription.close(
      signal.reason instanceof DomainError
        ? signal.reason
        : new DomainError('cancelled', 'STREAM-004', 'the stream was cancelled'),
    );
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  return {
    close: (reason) => subscription.close(reason),
    readAt: (event) => subscription.readAt(event),
    async *[Symbol.asyncIterator]() {
      let checkedAt = -Infinity;
      for await (const event of subscription) {
        // An event read before a check started had committed before it, and so had any
        // revocation preceding the event: the check saw that. One query per batch read, not per event.
        if (subscription.readAt(event) >= checkedAt) {
          checkedAt = performance.now();
          await recheckCaller(op, STREAM_PERMISSION);
        }
        yield event;
      }
    },
  };
}
