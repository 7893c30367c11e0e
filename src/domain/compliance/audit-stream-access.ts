import { checkAuditFilter, type AuditFilter } from './audit-filter.js';
import type { AuditStreamHub, AuditSubscription } from '../../jobs/audit-stream-hub.js';
import { isEventId } from './audit-trail.js';
import { DomainError, Violations } from '../kernel/errors.js';

/**
 * Validates a stream request and subscribes. The subscription closes when
 * `signal` aborts (client cancelled, deadline, shutdown), failing the
 * iteration with the abort's reason, so nothing stays registered.
 */
export function openAuditStream(
  hub: AuditStreamHub,
  rawFilter: AuditFilter,
  afterEventId: string | undefined,
  signal: AbortSignal,
): AuditSubscription {
  const violations = new Violations();
  const filter = checkAuditFilter('filter', rawFilter, violations);
  if (afterEventId !== undefined && !isEventId(afterEventId)) {
    violations.add('after_event_id', 'must be zero or a positive event id');
  }
  violations.throwIfAny('STREAM-003');
  const subscription = hub.subscribe(filter, afterEventId);
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
