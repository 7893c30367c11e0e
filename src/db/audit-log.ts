import type { EntityManager } from '@mikro-orm/postgresql';
import { AuditEvent } from './entities/audit-event.js';
import { preparedQuery } from './prepared-query.js';

/** The NOTIFY channel that wakes audit stream readers on every instance. */
export const AUDIT_CHANNEL = 'tessera_audit';

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
 * The select that draws audit event ids, `countParam` of them (a placeholder
 * such as `$3`). Its one-time filter assigns the transaction's xid before the
 * first nextval, which the horizon of audit-horizon.ts needs: an id drawn
 * before a reader's snapshot belongs to a transaction the snapshot counts as
 * running or finished. A write statement may end with it (its other writes in
 * CTEs) to draw the ids of its transaction's events in the same round trip.
 */
export function drawAuditIdsSql(countParam: string): string {
  return `select nextval(pg_get_serial_sequence('audit_events', 'id'))::text as id from generate_series(1, ${countParam}::int)
     where pg_current_xact_id() is not null`;
}

/**
 * Inserts audit events as the last statements of the current transaction.
 * Must run inside a transaction. Ids are drawn first (unless an event's id was
 * drawn with an earlier statement of the transaction, see drawAuditIdsSql) so
 * `prepare` can bind each row's ciphertext to its id. Transactions commit in
 * any order (no lock): readers deliver only below the horizon of
 * audit-horizon.ts.
 */
export async function appendAuditEvents(
  em: EntityManager,
  events: (NewAuditEvent & { id?: string })[],
  prepare: (event: NewAuditEvent, id: string) => NewAuditEvent = (event) => event,
): Promise<void> {
  if (events.length === 0) return;
  const missing = events.filter((event) => event.id === undefined).length;
  const drawn =
    missing === 0 ? [] : await preparedQuery<{ id: string }>(em, 'tessera_audit_ids', drawAuditIdsSql('$1'), [missing]);
  let next = 0;
  const ids = events.map((event) => event.id ?? drawn[next++]!.id);
  const rows = events.map(({ id: _, ...event }, i) => ({ ...prepare(event, ids[i]!), id: ids[i]! }));
  // Every audited commit writes here: one prepared statement, off the ORM's insert path, which also
  // notifies (delivered only on commit; listeners treat it as a wake-up, the table is the record).
  await preparedQuery(
    em,
    'tessera_audit_insert',
    `insert into audit_events (id, occurred_at, type, actor_type, actor_id, subject_user_id, ip, user_agent, request_id, metadata)
     select e.* from unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::uuid[], $7::text[],
                            $8::text[], $9::text[], $10::jsonb[]) as e,
                     (select pg_notify($11, '')) as wake_up`,
    [
      rows.map((r) => r.id),
      rows.map((r) => r.occurredAt),
      rows.map((r) => r.type),
      rows.map((r) => r.actorType),
      rows.map((r) => r.actorId),
      rows.map((r) => r.subjectUserId),
      rows.map((r) => r.ip),
      rows.map((r) => r.userAgent),
      rows.map((r) => r.requestId),
      rows.map((r) => JSON.stringify(r.metadata)),
      AUDIT_CHANNEL,
    ],
  );
}

/** Which events to read. Ids are decimal strings (BIGINT). */
export interface AuditEventQuery {
  /** Only ids greater than this. */
  afterId?: string;
  /** Only ids at most this. */
  upToId?: string;
  /** Only ids less than this (newest-first paging). */
  beforeId?: string;
  subjectUserId?: string;
  actorId?: string;
  types?: string[];
  occurredFrom?: Date;
  occurredBefore?: Date;
  order: 'asc' | 'desc';
  limit: number;
}

/** Reads audit events in id order. */
export async function readAuditEvents(em: EntityManager, q: AuditEventQuery): Promise<AuditEvent[]> {
  const id: Record<string, string> = {};
  if (q.afterId !== undefined) id.$gt = q.afterId;
  if (q.upToId !== undefined) id.$lte = q.upToId;
  if (q.beforeId !== undefined) id.$lt = q.beforeId;
  const occurredAt: Record<string, Date> = {};
  if (q.occurredFrom) occurredAt.$gte = q.occurredFrom;
  if (q.occurredBefore) occurredAt.$lt = q.occurredBefore;
  return em.find(
    AuditEvent,
    {
      ...(Object.keys(id).length ? { id } : {}),
      ...(Object.keys(occurredAt).length ? { occurredAt } : {}),
      ...(q.subjectUserId ? { subjectUserId: q.subjectUserId } : {}),
      ...(q.actorId ? { actorId: q.actorId } : {}),
      ...(q.types?.length ? { type: { $in: q.types } } : {}),
    },
    { orderBy: { id: q.order }, limit: q.limit, disableIdentityMap: true },
  );
}

/** Deletes events older than `cutoff`, at most `batch` of them; returns how many went. */
export async function deleteAuditEventsBefore(em: EntityManager, cutoff: Date, batch: number): Promise<number> {
  const rows = await em.getConnection().execute<{ id: string }[]>(
    `delete from audit_events where id in (
       select id from audit_events where occurred_at < ? order by id limit ?
     ) returning id`,
    [cutoff, batch],
  );
  return rows.length;
}
