// Opening a session once the credentials were checked, shared by password and provider sign-in.
import { v7 as uuidv7 } from 'uuid';
import { Session, User } from '../../db/index.js';
import { generateOpaqueSecret, hashBearerSecret } from '../../crypto/random.js';
import { signAccessToken } from '../../crypto/tokens.js';
import { AuditEventType } from '../kernel/audit-record.js';
import type { DomainDeps } from '../kernel/operation.js';
import { DomainError } from '../kernel/errors.js';
import type { Operation } from '../kernel/operation.js';
import { inTransaction, type UnitOfWork } from '../kernel/unit-of-work.js';
import { sessionBinding } from '../kernel/user-data-keys.js';

/** Refresh tokens carry a prefix so secret scanners and humans recognise them. */
export const REFRESH_TOKEN_PREFIX = 'tsr_';

export interface IssuedTokens {
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  refreshTokenExpiresAt: Date;
}

export interface LoginResult {
  user: User;
  tokens: IssuedTokens;
}

/** PERMISSION_DENIED for signing in to a suspended or deleted account; given only after the credentials were right. */
export const accountInactive = (id: string, status: string) =>
  new DomainError('permission_denied', id, `the account is ${status}`, {
    reason: status === 'suspended' ? 'ACCOUNT_SUSPENDED' : 'ACCOUNT_DELETED',
  });

/**
 * Completes a sign-in of an active user whose credentials were checked:
 * opens a session, sets last_login_at and records login.succeeded with the
 * sign-in `method` ("password", "oidc:<provider>"). `amr` lists the RFC
 * 8176 methods of the factors that were checked, for the session.
 */
export async function signIn(
  uow: UnitOfWork,
  user: User,
  method: string,
  metadata: Record<string, unknown>,
  amr: string[],
): Promise<IssuedTokens> {
  const now = uow.clock.now();
  user.lastLoginAt = now;
  user.updatedAt = now;
  const { session, tokens } = await openSession(uow, user, amr);
  uow.record({
    type: AuditEventType.loginSucceeded,
    subjectUserId: user.id,
    actor: { type: 'user', id: user.id },
    metadata: { method, session_id: session.id, ...metadata },
  });
  return tokens;
}

/**
 * Records a refused sign-in in a transaction of its own (the refusal itself
 * changes nothing but what `also` adds, e.g. a security mail).
 */
export async function recordLoginFailure(
  op: Operation,
  userId: string | null,
  reason: string,
  method = 'password',
  also?: (uow: UnitOfWork) => void,
): Promise<void> {
  await inTransaction(op, async (uow) => {
    uow.record({ type: AuditEventType.loginFailed, subjectUserId: userId, metadata: { method, reason } });
    also?.(uow);
  });
}

/**
 * When a session's refresh token lapses if it is refreshed at `now`: after the
 * idle timeout, but never past the session's absolute lifetime.
 */
export function refreshExpiry(deps: DomainDeps, createdAt: Date, now: Date): Date {
  const idle = now.getTime() + deps.tokens.sessionIdleTimeoutSeconds * 1000;
  const absolute = createdAt.getTime() + deps.tokens.sessionAbsoluteLifetimeSeconds * 1000;
  return new Date(Math.min(idle, absolute));
}

/** Creates a session for `user` and issues its first token pair. `_amr` is the sign-in's authentication methods (RFC 8176). */
async function openSession(uow: UnitOfWork, user: User, _amr: string[]): Promise<{ session: Session; tokens: IssuedTokens }> {
  const now = uow.clock.now();
  const refreshToken = generateOpaqueSecret(REFRESH_TOKEN_PREFIX);
  const id = uuidv7();
  // The client's address and agent are the user's personal data: sealed under their key, shredded by an erasure.
  const cipher = uow.ip || uow.userAgent ? await uow.deps.userKeys.forWriting(uow.em, user.id) : undefined;
  const seal = (value: string | null, column: 'ip' | 'user_agent') =>
    value && cipher ? cipher.seal(value, sessionBinding(column, id)) : null;
  const session = uow.em.create(Session, {
    id,
    user,
    refreshTokenHash: hashBearerSecret(refreshToken),
    previousRefreshTokenHash: null,
    rotatedAt: null,
    successorCiphertext: null,
    createdAt: now,
    expiresAt: refreshExpiry(uow.deps, now, now),
    lastUsedAt: now,
    revokedAt: null,
    revokeReason: null,
    ip: seal(uow.ip, 'ip'),
    userAgent: seal(uow.userAgent, 'user_agent'),
  });
  const tokens = await issueTokens(uow.deps, user, session, refreshToken);
  return { session, tokens };
}

export async function issueTokens(deps: DomainDeps, user: User, session: Session, refreshToken: string): Promise<IssuedTokens> {
  const access = await signAccessToken(
    deps.signingKeys.signer(),
    { sub: user.id, sid: session.id, role: user.role },
    { ...deps.tokens, now: deps.clock.now(), ttlSeconds: deps.tokens.accessTtlSeconds },
  );
  return {
    accessToken: access.token,
    accessTokenExpiresAt: access.expiresAt,
    refreshToken,
    refreshTokenExpiresAt: session.expiresAt,
  };
}
