import { Session } from '../../db/index.js';
import type { Operation } from '../kernel/operation.js';
import { AuditEventType } from '../kernel/audit-record.js';
import { signedInUser } from '../kernel/callers.js';
import { DomainError, Violations } from '../kernel/errors.js';
import { inTransaction } from '../kernel/unit-of-work.js';
import { checkUuid, isUuid } from '../kernel/validation.js';
import { endUserAccess, type RevocationCause } from './access-revocation.js';
import type { FieldCipher } from '../../crypto/field-cipher.js';
import { openField, sessionBinding } from '../kernel/user-data-keys.js';

/** A session as its owner sees it. */
export interface SessionView {
  id: string;
  createdAt: Date;
  lastUsedAt: Date;
  expiresAt: Date;
  ip: string | null;
  userAgent: string | null;
  /** Whether the call was made with this session's access token. */
  current: boolean;
}

export interface SessionPage {
  sessions: SessionView[];
  /** Opaque; empty on the last page. */
  nextPageToken: string;
}

const SESSIONS_DEFAULT_PAGE_SIZE = 50;
const SESSIONS_MAX_PAGE_SIZE = 100;

/**
 * The caller's open sessions (neither revoked nor expired), newest first.
 * Pages follow the session id (time-ordered UUIDv7), so a page token stays
 * valid while sessions come and go.
 */
export async function listOwnSessions(op: Operation, page: { pageSize: number; pageToken: string }): Promise<SessionPage> {
  const caller = signedInUser(op, 'SESM-001');
  const violations = new Violations();
  if (page.pageSize < 0 || page.pageSize > SESSIONS_MAX_PAGE_SIZE) {
    violations.add('page_size', `must be between 0 and ${SESSIONS_MAX_PAGE_SIZE}`);
  }
  const after = page.pageToken === '' ? undefined : decodePageToken(page.pageToken, violations);
  violations.throwIfAny('SESM-002');
  const limit = page.pageSize || SESSIONS_DEFAULT_PAGE_SIZE;

  const rows = await op.em.find(
    Session,
    {
      user: caller.userId,
      revokedAt: null,
      expiresAt: { $gt: op.clock.now() },
      ...(after ? { id: { $lt: after } } : {}),
    },
    { orderBy: { id: 'desc' }, limit: limit + 1 },
  );
  const cipher = (await op.deps.userKeys.forReading(op.em, [caller.userId])).get(caller.userId);
  const sessions = rows.slice(0, limit).map((s) => toSessionView(s, cipher, caller.sessionId));
  const more = rows.length > limit;
  return { sessions, nextPageToken: more ? encodePageToken(sessions.at(-1)!.id) : '' };
}

function encodePageToken(lastId: string): string {
  return Buffer.from(`s1:${lastId}`, 'utf8').toString('base64url');
}

function decodePageToken(token: string, violations: Violations): string | undefined {
  const decoded = token.length <= 128 ? Buffer.from(token, 'base64url').toString('utf8') : '';
  const id = decoded.startsWith('s1:') ? decoded.slice(3) : '';
  if (!isUuid(id)) {
    violations.add('page_token', 'is not a page token from ListSessions');
    return undefined;
  }
  return id.toLowerCase();
}

/**
 * Ends one of the caller's sessions (the current one included). A session of
 * someone else answers like a missing one, so ids cannot be probed. Ending a
 * session that already ended succeeds and records nothing.
 */
export async function revokeOwnSession(op: Operation, rawSessionId: string): Promise<void> {
  const caller = signedInUser(op, 'SESM-003');
  const violations = new Violations();
  const sessionId = checkUuid('session_id', rawSessionId, violations);
  violations.throwIfAny('SESM-004');
  await inTransaction(op, async (uow) => {
    const session = await uow.em.findOne(Session, { id: sessionId, user: caller.userId });
    if (!session) throw new DomainError('not_found', 'SESM-005', 'no such session', { reason: 'SESSION_NOT_FOUND' });
    if (session.revokedAt) return;
    session.revokedAt = op.clock.now();
    session.revokeReason = 'user_revoked' satisfies RevocationCause;
    session.successorCiphertext = null;
    uow.record({
      type: AuditEventType.sessionRevoked,
      subjectUserId: caller.userId,
      metadata: { session_id: session.id, reason: session.revokeReason },
    });
  });
}

/**
 * Signs the caller out everywhere; with `keepCurrent`, everywhere but here.
 * Pending one-time links end too: whoever had the account may have asked
 * for one. Returns how many sessions ended.
 */
export async function revokeAllOwnSessions(op: Operation, options: { keepCurrent: boolean }): Promise<number> {
  const caller = signedInUser(op, 'SESM-006');
  return inTransaction(op, (uow) =>
    endUserAccess(uow, caller.userId, { cause: 'revoked_all', keep: options.keepCurrent ? caller.sessionId : undefined }),
  );
}

/** A session as its owner sees it: the IP and user agent opened with the user's data key. */
export function toSessionView(
  session: Session,
  cipher: FieldCipher | undefined,
  currentSessionId: string | undefined,
): SessionView {
  return {
    id: session.id,
    createdAt: session.createdAt,
    lastUsedAt: session.lastUsedAt,
    expiresAt: session.expiresAt,
    ip: openField(cipher, session.ip, sessionBinding('ip', session.id)) || null,
    userAgent: openField(cipher, session.userAgent, sessionBinding('user_agent', session.id)) || null,
    current: session.id === currentSessionId,
  };
}
