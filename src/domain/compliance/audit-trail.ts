import { readAuditEvents, type AuditEvent } from '../../db/index.js';
import { revealAuditEvents } from '../kernel/audit-personal-data.js';
import type { Operation } from '../kernel/operation.js';
import { auditFilterKey, checkAuditFilter, filterQuery, type AuditFilter } from './audit-filter.js';
import { invalidArguments, Violations } from '../kernel/errors.js';
import { checkPageSize, decodeOpaquePageToken, encodeOpaquePageToken, queryFingerprint } from '../kernel/page-token.js';

export interface AuditPageRequest {
  filter: AuditFilter;
  pageSize: number;
  pageToken: string;
  order: 'oldest_first' | 'newest_first';
}

export interface AuditPage {
  events: AuditEvent[];
  nextPageToken: string;
}

/**
 * One page of the audit trail. Paging is by event id (the trail's total
 * order), so pages never overlap or skip, even while events are appended.
 */
export async function listAuditEvents(op: Operation, request: AuditPageRequest): Promise<AuditPage> {
  const violations = new Violations();
  const filter = checkAuditFilter('filter', request.filter, violations);
  const limit = checkPageSize(request.pageSize, violations, { default: 100, max: 1000 });
  violations.throwIfAny('AUDIT-001');
  const fingerprint = queryFingerprint('audit_events', request.order, auditFilterKey(filter));
  const position = decodeOpaquePageToken(request.pageToken, fingerprint, 'AUDIT-004');
  // Tokens are not signed: a position that is not an event id is refused, not sent to the database.
  if (position && !isEventId(position.id)) {
    throw invalidArguments('AUDIT-003', [{ field: 'page_token', description: 'is not a page token issued by this service' }]);
  }
  const ascending = request.order === 'oldest_first';

  // One extra row tells whether another page exists.
  const rows = await readAuditEvents(op.em, {
    ...filterQuery(filter),
    ...(position ? (ascending ? { afterId: position.id } : { beforeId: position.id }) : {}),
    order: ascending ? 'asc' : 'desc',
    limit: limit + 1,
  });
  const events = await revealAuditEvents(op.em, op.deps.userKeys, rows.slice(0, limit));
  const more = rows.length > limit;
  return {
    events,
    nextPageToken: more ? encodeOpaquePageToken(fingerprint, { id: events[events.length - 1].id }) : '',
  };
}

const MAX_BIGINT = 9223372036854775807n;

/** A decimal BIGINT event id ("0" included). */
export function isEventId(value: string | undefined): value is string {
  return value !== undefined && /^(0|[1-9]\d{0,18})$/.test(value) && BigInt(value) <= MAX_BIGINT;
}
