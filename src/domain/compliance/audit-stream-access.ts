import { checkAuditFilter, type AuditFilter } from './audit-filter.js';
import type { AuditEvent } from '../../db/index.js';
import { isEventId } from './audit-trail.js';
import { DomainError, Violations } from '../kernel/errors.js';

/** A live subscription to the audit trail: iterate it for events in id order; close it to let go. */
export interface AuditEventSubscription extends AsyncIterable<AuditEvent> {
  close(reason?: DomainError | 'done'): void;
}

/** Where live audit events come from (the stream hub of this instance, started by the composition root). */
export interface AuditEventFeed {
  subscribe(filter: AuditFilter, afterEventId: string | undefined): AuditEventSubscription;
}

/**
 * Validates a stream request and subscribes. The subscription closes when
 * `signal` aborts (client cancelled, deadline, shutdown), failing the
 * iteration with the abort's reason, so nothing stays registered.
 */
export function openAuditStream(
  feed: AuditEventFeed,
  rawFilter: AuditFilter,
  afterEventId: string | undefined,
  signal: AbortSignal,
): AuditEventSubscription {
  const violations = new Violations();
  const filter = checkAuditFilter('filter', rawFilter, violations);
  if (afterEventId !== undefined && !isEventId(afterEventId)) {
    violations.add('after_event_id', 'must be zero or a positive event id');
  }
  violations.throwIfAny('STREAM-003');
  const subscription = feed.subscribe(filter, afterEventId);
  const onAbort = () =>
    subscription.close(
      signal.reason instanceof DomainError
        ? signal.reason
        : new DomainError('cancelled', 'STREAM-004', 'the stream was cancelled'),
    );
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  return subscription;
}
