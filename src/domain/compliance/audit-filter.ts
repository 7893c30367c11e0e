import type { AuditEvent, AuditEventQuery } from '../../db/index.js';
import { Violations } from '../kernel/errors.js';
import { isUuid } from '../kernel/validation.js';

/** Conditions on audit events, combined with AND. */
export interface AuditFilter {
  subjectUserId?: string;
  actorId?: string;
  /** Dotted type names, e.g. "session.revoked". */
  types?: string[];
  startTime?: Date;
  endTime?: Date;
}

/** Validates a filter from a request; `field` is the proto path of the filter message. */
export function checkAuditFilter(field: string, filter: AuditFilter, violations: Violations): AuditFilter {
  if (filter.subjectUserId && !isUuid(filter.subjectUserId)) violations.add(`${field}.subject_user_id`, 'must be a UUID');
  if (filter.actorId && !isUuid(filter.actorId)) violations.add(`${field}.actor_id`, 'must be a UUID');
  if (filter.types && filter.types.length > 64) violations.add(`${field}.types`, 'must list at most 64 types');
  if (filter.startTime && filter.endTime && filter.startTime >= filter.endTime) {
    violations.add(`${field}.end_time`, 'must be after start_time');
  }
  return {
    subjectUserId: filter.subjectUserId?.toLowerCase() || undefined,
    actorId: filter.actorId?.toLowerCase() || undefined,
    types: filter.types?.length ? [...new Set(filter.types)] : undefined,
    startTime: filter.startTime,
    endTime: filter.endTime,
  };
}

/** The storage query for a filter. */
export function filterQuery(
  filter: AuditFilter,
): Pick<AuditEventQuery, 'subjectUserId' | 'actorId' | 'types' | 'occurredFrom' | 'occurredBefore'> {
  return {
    subjectUserId: filter.subjectUserId,
    actorId: filter.actorId,
    types: filter.types,
    occurredFrom: filter.startTime,
    occurredBefore: filter.endTime,
  };
}

/** The same conditions in memory, for events fanned out to live streams. */
export function matchesAuditFilter(event: AuditEvent, filter: AuditFilter): boolean {
  if (filter.subjectUserId && event.subjectUserId !== filter.subjectUserId) return false;
  if (filter.actorId && event.actorId !== filter.actorId) return false;
  if (filter.types && !filter.types.includes(event.type)) return false;
  if (filter.startTime && event.occurredAt < filter.startTime) return false;
  if (filter.endTime && event.occurredAt >= filter.endTime) return false;
  return true;
}

/** A stable key of a filter, so a page token is only honoured with the filter it was made for. */
export function auditFilterKey(filter: AuditFilter): string {
  return JSON.stringify([
    filter.subjectUserId ?? '',
    filter.actorId ?? '',
    [...(filter.types ?? [])].sort(),
    filter.startTime?.toISOString() ?? '',
    filter.endTime?.toISOString() ?? '',
  ]);
}
