import { defineEntity, type InferEntity } from '@mikro-orm/core';

/**
 * An append-only record of a state change or sign-in attempt, written in the
 * transaction of the change. `id` is the stream cursor. Personal fields (ip,
 * user_agent, metadata) can be blanked on erasure while id, type and order stay.
 */
export const AuditEvent = defineEntity({
  name: 'AuditEvent',
  tableName: 'audit_events',
  properties: (p) => ({
    id: p.bigint('string').primary().autoincrement(),
    occurredAt: p.datetime(),
    type: p.text(),
    actorType: p.text(),
    actorId: p.text().nullable(),
    /** No foreign key: the event outlives the user (erasure leaves a tombstone id). */
    subjectUserId: p.uuid().nullable(),
    ip: p.text().nullable(),
    userAgent: p.text().nullable(),
    requestId: p.text().nullable(),
    metadata: p.json<Record<string, unknown>>().default('{}'),
  }),
  indexes: [
    { name: 'audit_events_subject_index', properties: ['subjectUserId', 'id'] },
    { name: 'audit_events_type_index', properties: ['type', 'id'] },
    { name: 'audit_events_actor_index', properties: ['actorId', 'id'] },
    // Time-range filters and the retention job.
    { name: 'audit_events_occurred_at_index', properties: ['occurredAt'] },
  ],
});

export type AuditEvent = InferEntity<typeof AuditEvent>;
