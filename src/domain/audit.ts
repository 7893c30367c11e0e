import type { NewAuditEvent } from '../db/index.js';
import type { Clock } from '../clock.js';
import type { RequestContext } from './context.js';

/** The audit event catalogue (documented in the README). Metadata never holds secrets. */
export const AuditEventType = {
  userRegistered: 'user.registered',
  userBootstrapped: 'user.bootstrapped_admin',
  loginSucceeded: 'login.succeeded',
  loginFailed: 'login.failed',
  tokenRefreshed: 'token.refreshed',
  sessionLoggedOut: 'session.logged_out',
  profileUpdated: 'profile.updated',
  signingKeyCreated: 'signing_key.created',
  signingKeyRotated: 'signing_key.rotated',
  refreshTokenReuseDetected: 'refresh_token.reuse_detected',
  sessionRevoked: 'session.revoked',
  sessionsRevokedAll: 'sessions.revoked_all',
  emailVerificationRequested: 'email_verification.requested',
  emailVerified: 'email.verified',
  emailChangeRequested: 'email_change.requested',
  emailChanged: 'email.changed',
  passwordResetRequested: 'password_reset.requested',
  passwordResetCompleted: 'password_reset.completed',
  passwordChanged: 'password.changed',
  reauthenticationFailed: 'reauthentication.failed',
  userImported: 'user.imported',
} as const;

export type AuditEventType = (typeof AuditEventType)[keyof typeof AuditEventType];

/** An event as the domain states it; the unit of work adds time, actor and request facts. */
export interface AuditRecord {
  type: AuditEventType;
  subjectUserId?: string | null;
  /** Overrides the actor derived from the principal, e.g. the user who just signed in. */
  actor?: { type: 'user' | 'system' | 'anonymous'; id: string | null };
  metadata?: Record<string, unknown>;
}

/** Completes an AuditRecord with the facts of the call that caused it. */
export function toAuditRow(record: AuditRecord, ctx: RequestContext, clock: Clock): NewAuditEvent {
  const actor = record.actor ?? actorOf(ctx);
  return {
    occurredAt: clock.now(),
    type: record.type,
    actorType: actor.type,
    actorId: actor.id,
    subjectUserId: record.subjectUserId ?? null,
    ip: ctx.ip,
    userAgent: ctx.userAgent,
    requestId: ctx.requestId,
    metadata: record.metadata ?? {},
  };
}

function actorOf(ctx: RequestContext): { type: 'user' | 'system' | 'anonymous'; id: string | null } {
  switch (ctx.principal.kind) {
    case 'user':
      return { type: 'user', id: ctx.principal.userId };
    case 'system':
      return { type: 'system', id: null };
    default:
      return { type: 'anonymous', id: null };
  }
}
