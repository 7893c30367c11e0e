import { OneTimeToken, Session } from '../../db/index.js';
import { AuditEventType, type AuditRecord } from '../kernel/audit-record.js';
import type { UnitOfWork } from '../kernel/unit-of-work.js';

/** Why a user's sessions ended, as stored in sessions.revoke_reason and told to backends on the audit stream. */
export type RevocationCause =
  | 'user_revoked'
  | 'revoked_all'
  | 'revoked_by_admin'
  | 'password_reset'
  | 'password_changed'
  | 'user_suspended'
  | 'user_deleted'
  | 'role_changed'
  | 'address_proven'
  | 'mfa_reset';

/** The sessions an access-ending change takes: all of them but `keep` (the caller's, when it stays signed in). */
export interface SessionEnding {
  cause: RevocationCause;
  keep?: string;
  /** Who acts, when not the call's principal (a reset link proves the user). */
  actor?: AuditRecord['actor'];
}

/**
 * Ends a user's access after a change to their credentials, address, status
 * or role, inside the caller's transaction: every pending one-time link
 * (email verification, email change, password reset) is used up, so a link
 * mailed before the change cannot undo it. Unless the change takes only the
 * links (an email change), the sessions end too, and the same transaction
 * tells backends with one sessions.revoked_all event whose not_before (this
 * instant) covers every access token of the user issued before it, but
 * those of `kept_session_id`. Returns how many sessions ended.
 */
export async function endUserAccess(uow: UnitOfWork, userId: string, ending: SessionEnding | 'links_only'): Promise<number> {
  const now = uow.clock.now();
  await uow.em.nativeUpdate(OneTimeToken, { user: userId, consumedAt: null }, { consumedAt: now });
  if (ending === 'links_only') return 0;
  const kept = ending.keep;
  const ended = await uow.em.nativeUpdate(
    Session,
    { user: userId, revokedAt: null, ...(kept ? { id: { $ne: kept } } : {}) },
    { revokedAt: now, revokeReason: ending.cause, successorCiphertext: null },
  );
  // Written even when no session was open: the not-before time is the promise backends rely on.
  uow.record({
    type: AuditEventType.sessionsRevokedAll,
    subjectUserId: userId,
    actor: ending.actor,
    metadata: {
      not_before: now.toISOString(),
      reason: ending.cause,
      sessions_revoked: ended,
      ...(kept ? { kept_session_id: kept } : {}),
    },
  });
  return ended;
}
