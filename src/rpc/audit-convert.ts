import type { AuditEvent as AuditEventRow } from '../db/index.js';
import { AuditEventType as DomainAuditEventType } from '../domain/kernel/audit-record.js';
import { ActorType, AuditEventType, type AuditEvent } from '../gen/tessera/v1/audit_event.js';

/** "session.revoked" -> AUDIT_EVENT_TYPE_SESSION_REVOKED: the proto enum mirrors the stored dotted names. */
export function auditTypeToProto(name: string): AuditEventType {
  const key = `AUDIT_EVENT_TYPE_${name.replace(/[.]/g, '_').toUpperCase()}` as keyof typeof AuditEventType;
  const value = AuditEventType[key];
  return typeof value === 'number' ? value : AuditEventType.AUDIT_EVENT_TYPE_UNSPECIFIED;
}

/** AUDIT_EVENT_TYPE_SESSION_REVOKED -> "session.revoked"; undefined for UNSPECIFIED or unknown numbers. */
export function auditTypeFromProto(type: AuditEventType): string | undefined {
  const key = AuditEventType[type] as string | undefined;
  if (!key || type === AuditEventType.AUDIT_EVENT_TYPE_UNSPECIFIED || type === AuditEventType.UNRECOGNIZED) return undefined;
  return DOTTED_NAMES.get(key);
}

const DOTTED_NAMES = new Map<string, string>(
  Object.values(DomainAuditEventType).map((name) => [AuditEventType[auditTypeToProto(name)] as string, name]),
);

const ACTOR_TYPES: Record<string, ActorType> = {
  user: ActorType.ACTOR_TYPE_USER,
  service_account: ActorType.ACTOR_TYPE_SERVICE_ACCOUNT,
  system: ActorType.ACTOR_TYPE_SYSTEM,
  anonymous: ActorType.ACTOR_TYPE_ANONYMOUS,
};

const str = (value: unknown): string => (typeof value === 'string' ? value : '');

/** The typed details of an event, built from its stored metadata; undefined for types without them. */
function detailsOf(row: AuditEventRow): AuditEvent['details'] {
  const m = row.metadata ?? {};
  switch (row.type) {
    case 'login.succeeded':
      return { $case: 'login', value: { method: str(m.method), sessionId: str(m.session_id) } };
    case 'login.failed':
      return { $case: 'loginFailed', value: { method: str(m.method), reason: str(m.reason) } };
    case 'token.refreshed':
    case 'session.logged_out':
    case 'session.revoked':
    case 'refresh_token.reuse_detected':
    case 'reauthentication.succeeded':
      return { $case: 'session', value: { sessionId: str(m.session_id), reason: str(m.reason) } };
    case 'profile.updated':
      return { $case: 'profileUpdated', value: { changedFields: Array.isArray(m.fields) ? m.fields.map(str) : [] } };
    case 'user.role_changed':
      return { $case: 'roleChanged', value: { oldRole: str(m.old_role), newRole: str(m.new_role) } };
    case 'user.suspended':
    case 'user.reactivated':
    case 'user.deleted':
    case 'user.undeleted':
      return { $case: 'statusChanged', value: { reason: str(m.reason) } };
    case 'social_login.linked':
    case 'social_login.unlinked':
      return { $case: 'socialLogin', value: { provider: str(m.provider) } };
    case 'service_account.created':
    case 'service_account.deleted':
      return {
        $case: 'serviceAccount',
        value: { serviceAccountId: str(m.service_account_id), name: str(m.name), role: str(m.role) },
      };
    case 'signing_key.created':
    case 'signing_key.rotated':
      return {
        $case: 'signingKey',
        value: {
          kid: str(m.kid),
          alg: str(m.alg),
          retiredKid: str(m.retired_kid),
          nextKid: str(m.next_kid),
        },
      };
    default:
      return undefined;
  }
}

/** The stored metadata keys each typed details case carries; the rest stays in `metadata`. */
const KEYS_IN_DETAILS: Record<string, readonly string[]> = {
  login: ['method', 'session_id'],
  loginFailed: ['method', 'reason'],
  session: ['session_id', 'reason'],
  profileUpdated: ['fields'],
  roleChanged: ['old_role', 'new_role'],
  statusChanged: ['reason'],
  socialLogin: ['provider'],
  serviceAccount: ['service_account_id', 'name', 'role'],
  signingKey: ['kid', 'alg', 'retired_kid', 'next_kid'],
};

/**
 * Stored row -> proto. Typed details where the type has them; whatever else
 * was recorded goes in the metadata Struct, so nothing stored is hidden.
 */
export function toAuditEventMessage(row: AuditEventRow): AuditEvent {
  const details = detailsOf(row);
  const covered = new Set(details ? KEYS_IN_DETAILS[details.$case] : []);
  const rest = Object.fromEntries(Object.entries(row.metadata ?? {}).filter(([key]) => !covered.has(key)));
  return {
    id: row.id,
    type: auditTypeToProto(row.type),
    typeName: row.type,
    occurredAt: row.occurredAt,
    actor: { type: ACTOR_TYPES[row.actorType] ?? ActorType.ACTOR_TYPE_UNSPECIFIED, id: row.actorId ?? '' },
    subjectUserId: row.subjectUserId ?? '',
    ip: row.ip ?? '',
    userAgent: row.userAgent ?? '',
    requestId: row.requestId ?? '',
    details,
    metadata: details && Object.keys(rest).length === 0 ? undefined : rest,
  };
}
