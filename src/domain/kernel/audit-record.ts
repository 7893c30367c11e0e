import type { NewAuditEvent } from '../../db/index.js';
import type { Operation } from './operation.js';
import type { Principal } from './principal.js';

/**
 * The audit event catalogue, mirrored one to one by the AuditEventType enum of
 * proto/tessera/v1/audit_event.proto. Metadata never holds secrets.
 */
export const AuditEventType = {
  userRegistered: 'user.registered',
  userBootstrapped: 'user.bootstrapped_admin',
  loginSucceeded: 'login.succeeded',
  loginFailed: 'login.failed',
  tokenRefreshed: 'token.refreshed',
  refreshTokenReuseDetected: 'refresh_token.reuse_detected',
  sessionRevoked: 'session.revoked',
  sessionLoggedOut: 'session.logged_out',
  emailVerificationRequested: 'email_verification.requested',
  emailVerified: 'email.verified',
  emailChanged: 'email.changed',
  passwordResetRequested: 'password_reset.requested',
  passwordResetCompleted: 'password_reset.completed',
  passwordChanged: 'password.changed',
  profileUpdated: 'profile.updated',
  userSuspended: 'user.suspended',
  userReactivated: 'user.reactivated',
  userDeleted: 'user.deleted',
  userUndeleted: 'user.undeleted',
  userErased: 'user.erased',
  userRoleChanged: 'user.role_changed',
  socialLoginLinked: 'social_login.linked',
  socialLoginUnlinked: 'social_login.unlinked',
  serviceAccountCreated: 'service_account.created',
  serviceAccountDeleted: 'service_account.deleted',
  signingKeyCreated: 'signing_key.created',
  signingKeyRotated: 'signing_key.rotated',
  sessionsRevokedAll: 'sessions.revoked_all',
  emailChangeRequested: 'email_change.requested',
  reauthenticationFailed: 'reauthentication.failed',
  reauthenticationSucceeded: 'reauthentication.succeeded',
  userImported: 'user.imported',
  userUpdated: 'user.updated',
  userExported: 'user.exported',
  retentionCompleted: 'retention.completed',
  mfaTotpEnrolled: 'mfa.totp_enrolled',
  mfaTotpConfirmed: 'mfa.totp_confirmed',
  mfaTotpDisabled: 'mfa.totp_disabled',
  mfaRecoveryCodesRegenerated: 'mfa.recovery_codes_regenerated',
  mfaChallengeIssued: 'mfa.challenge_issued',
  mfaVerificationFailed: 'mfa.verification_failed',
  mfaRecoveryCodeUsed: 'mfa.recovery_code_used',
  mfaReset: 'mfa.reset',
} as const;

export type AuditEventType = (typeof AuditEventType)[keyof typeof AuditEventType];

/** Who caused an event: a user, a service account (by id), the system, or nobody known. */
interface AuditActor {
  type: 'user' | 'service_account' | 'system' | 'anonymous';
  id: string | null;
}

/** An event as the domain states it; the unit of work adds time, actor and request facts. */
export interface AuditRecord {
  type: AuditEventType;
  subjectUserId?: string | null;
  /** Overrides the actor derived from the principal, e.g. the user who just signed in. */
  actor?: AuditActor;
  metadata?: Record<string, unknown>;
  /** Leaves out the caller's ip and user agent (the erasure event must hold nothing personal of anyone). */
  withoutClient?: true;
}

/** Completes an AuditRecord with the facts of the call that caused it. */
export function toAuditRow(record: AuditRecord, op: Operation): NewAuditEvent {
  const actor = record.actor ?? actorOf(op.principal);
  return {
    occurredAt: op.clock.now(),
    type: record.type,
    actorType: actor.type,
    actorId: actor.id,
    subjectUserId: record.subjectUserId ?? null,
    ip: record.withoutClient ? null : op.ip,
    userAgent: record.withoutClient ? null : op.userAgent,
    requestId: op.requestId,
    metadata: record.metadata ?? {},
  };
}

function actorOf(principal: Principal): AuditActor {
  switch (principal.kind) {
    case 'user':
      return { type: 'user', id: principal.userId };
    case 'service_account':
      return { type: 'service_account', id: principal.serviceAccountId };
    case 'system':
      return { type: 'system', id: null };
    default:
      return { type: 'anonymous', id: null };
  }
}
