import type { FieldCipher } from '../../crypto/field-cipher.js';
import type { AuditEvent, EntityManager, NewAuditEvent } from '../../db/index.js';
import type { UserDataKeys } from './user-data-keys.js';

/** Metadata keys that identify a person (a provider's subject id, an address): sealed with ip and user agent. */
const PERSONAL_METADATA_KEYS = ['subject', 'email'] as const;
/** Free text an administrator writes about the subject, by event type: sealed as well, so an erasure shreds it. */
const PERSONAL_METADATA_KEYS_BY_TYPE: Readonly<Record<string, readonly string[]>> = { 'user.suspended': ['reason'] };

function personalKeysOf(type: string): readonly string[] {
  return [...PERSONAL_METADATA_KEYS, ...(PERSONAL_METADATA_KEYS_BY_TYPE[type] ?? [])];
}
/** Where the sealed personal metadata sits in the stored metadata. */
const SEALED_METADATA_KEY = 'sealed';

const bindings = (id: string) => ({
  ip: `audit_events.ip:${id}`,
  userAgent: `audit_events.user_agent:${id}`,
  metadata: `audit_events.metadata:${id}`,
});

/** Whether an event carries anything personal to seal. */
export function hasPersonalData(event: NewAuditEvent): boolean {
  return event.ip !== null || event.userAgent !== null || personalKeysOf(event.type).some((k) => k in event.metadata);
}

/**
 * The event as stored: ip, user agent and personal metadata sealed under the
 * subject's data key and bound to the event id, so an erasure leaves id,
 * type, time and actor readable and nothing personal.
 */
export function sealAuditPersonalData(cipher: FieldCipher, event: NewAuditEvent, id: string): NewAuditEvent {
  const b = bindings(id);
  const personalKeys = personalKeysOf(event.type);
  const personal: Record<string, unknown> = {};
  const metadata: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event.metadata)) {
    if (personalKeys.includes(key)) personal[key] = value;
    else metadata[key] = value;
  }
  if (Object.keys(personal).length > 0) metadata[SEALED_METADATA_KEY] = cipher.seal(JSON.stringify(personal), b.metadata);
  return {
    ...event,
    ip: event.ip === null ? null : cipher.seal(event.ip, b.ip),
    userAgent: event.userAgent === null ? null : cipher.seal(event.userAgent, b.userAgent),
    metadata,
  };
}

/**
 * Stored events -> readable ones: the personal parts opened with their
 * subjects' keys. Events of an erased user come back without them.
 */
export async function revealAuditEvents(em: EntityManager, keys: UserDataKeys, rows: AuditEvent[]): Promise<AuditEvent[]> {
  const subjects = rows.filter(isSealed).map((row) => row.subjectUserId!);
  const ciphers = await keys.forReading(em, subjects);
  return rows.map((row) => (isSealed(row) ? revealOne(row, ciphers.get(row.subjectUserId!)) : row));
}

function isSealed(row: AuditEvent): boolean {
  return (
    row.subjectUserId !== null &&
    row.subjectUserId !== undefined &&
    (isCiphertext(row.ip) || isCiphertext(row.userAgent) || SEALED_METADATA_KEY in (row.metadata ?? {}))
  );
}

function isCiphertext(value: string | null | undefined): boolean {
  return typeof value === 'string' && value.startsWith('v1.');
}

function revealOne(row: AuditEvent, cipher: FieldCipher | undefined): AuditEvent {
  const b = bindings(row.id);
  const { [SEALED_METADATA_KEY]: sealed, ...metadata } = row.metadata ?? {};
  const personal =
    cipher && typeof sealed === 'string' ? (JSON.parse(cipher.open(sealed, b.metadata)) as Record<string, unknown>) : {};
  return {
    ...row,
    ip: isCiphertext(row.ip) ? (cipher ? cipher.open(row.ip!, b.ip) : null) : row.ip,
    userAgent: isCiphertext(row.userAgent) ? (cipher ? cipher.open(row.userAgent!, b.userAgent) : null) : row.userAgent,
    metadata: { ...metadata, ...personal },
  };
}
