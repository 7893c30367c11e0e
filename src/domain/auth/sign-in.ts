// Opening a session once the credentials were checked, shared by password and provider sign-in.
import { v7 as uuidv7 } from 'uuid';
import { insertSession, stampSignIn, Session, type NewSession, type SignInUser, type User } from '../../db/index.js';
import type { StoredPassword } from '../../crypto/passwords.js';
import { generateOpaqueSecret, hashBearerSecret } from '../../crypto/random.js';
import { signAccessToken } from '../../crypto/tokens.js';
import { AuditEventType } from '../kernel/audit-record.js';
import type { DomainDeps } from '../kernel/operation.js';
import { DomainError } from '../kernel/errors.js';
import type { Operation } from '../kernel/operation.js';
import { inTransaction, type UnitOfWork } from '../kernel/unit-of-work.js';
import { sessionBinding } from '../kernel/user-data-keys.js';
import { assuranceOf, type Assurance } from './assurance.js';

/** Refresh tokens carry a prefix so secret scanners and humans recognise them. */
export const REFRESH_TOKEN_PREFIX = 'tsr_';

export interface IssuedTokens {
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  refreshTokenExpiresAt: Date;
}

/** What an access token says of its user and session. */
type TokenSubject = Pick<User, 'id' | 'role'>;
type TokenSession = Pick<Session, 'id' | 'authenticatedAt' | 'amr' | 'acr' | 'expiresAt'>;

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
 * sign-in `method` ("password", "oidc:<provider>"). `amr` are the RFC 8176
 * methods the credentials proved (see assurance.ts): the session keeps them.
 * The user is the ORM's (flushed with the unit of work).
 */
export async function signIn(
  uow: UnitOfWork,
  user: User,
  method: string,
  metadata: Record<string, unknown> = {},
  amr: string[] = ['pwd'],
): Promise<IssuedTokens> {
  const now = uow.clock.now();
  user.lastLoginAt = now;
  user.updatedAt = now;
  const { session, tokens } = await openSession(uow, user, assuranceOf(amr, now));
  uow.em.create(Session, {
    ...session,
    user,
    previousRefreshTokenHash: null,
    rotatedAt: null,
    successorCiphertext: null,
    revokedAt: null,
    revokeReason: null,
  });
  recordSignIn(uow, user.id, method, session.id, metadata);
  return tokens;
}

/**
 * signIn for the password Login: the same rows and event, written as prepared
 * statements off the ORM's unit of work. The account is stamped (and locked)
 * only while still active; null when it is not, with nothing written.
 * `upgraded` is a rehash of the password to store with the stamp.
 */
export async function signInActiveUser(
  uow: UnitOfWork,
  userId: string,
  method: string,
  metadata: Record<string, unknown>,
  amr: string[],
  upgraded?: StoredPassword,
): Promise<{ user: SignInUser; tokens: IssuedTokens } | null> {
  const now = uow.clock.now();
  const stamped = await stampSignIn(uow.em, userId, now, upgraded);
  if (!stamped) return null;
  const { session, tokens } = await openSession(uow, stamped.user, assuranceOf(amr, now));
  recordSignIn(uow, userId, method, session.id, metadata);
  // The session's insert also draws the event's id: one round trip fewer.
  await uow.writeDrawingAuditIds((count) => insertSession(uow.em, { ...session, userId }, count));
  return { user: stamped.user, tokens };
}

function recordSignIn(
  uow: UnitOfWork,
  userId: string,
  method: string,
  sessionId: string,
  metadata: Record<string, unknown>,
): void {
  uow.record({
    type: AuditEventType.loginSucceeded,
    subjectUserId: userId,
    actor: { type: 'user', id: userId },
    metadata: { method, session_id: sessionId, ...metadata },
  });
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

/** The row of a new session for `user` (its ip and user agent sealed), and its first token pair. */
async function openSession(
  uow: UnitOfWork,
  user: Pick<User, 'id' | 'role'>,
  assurance: Assurance,
): Promise<{ session: Omit<NewSession, 'userId'>; tokens: IssuedTokens }> {
  const now = uow.clock.now();
  const refreshToken = generateOpaqueSecret(REFRESH_TOKEN_PREFIX);
  const id = uuidv7();
  // The client's address and agent are the user's personal data: sealed under their key, shredded by an erasure.
  const cipher = uow.ip || uow.userAgent ? await uow.deps.userKeys.forWriting(uow.em, user.id) : undefined;
  const seal = (value: string | null, column: 'ip' | 'user_agent') =>
    value && cipher ? cipher.seal(value, sessionBinding(column, id)) : null;
  const session = {
    id,
    refreshTokenHash: hashBearerSecret(refreshToken),
    createdAt: now,
    expiresAt: refreshExpiry(uow.deps, now, now),
    lastUsedAt: now,
    ip: seal(uow.ip, 'ip'),
    userAgent: seal(uow.userAgent, 'user_agent'),
    ...assurance,
  };
  const tokens = await issueTokens(uow.deps, user, session, refreshToken);
  return { session, tokens };
}

export async function issueTokens(
  deps: DomainDeps,
  user: TokenSubject,
  session: TokenSession,
  refreshToken: string,
): Promise<IssuedTokens> {
  const access = await issueAccessToken(deps, user, session);
  return {
    accessToken: access.token,
    accessTokenExpiresAt: access.expiresAt,
    refreshToken,
    refreshTokenExpiresAt: session.expiresAt,
  };
}

/** An access token for `session`, carrying the assurance the session holds (refreshing does not renew it). */
export function issueAccessToken(deps: DomainDeps, user: TokenSubject, session: TokenSession) {
  return signAccessToken(
    deps.signingKeys.signer(),
    {
      sub: user.id,
      sid: session.id,
      role: user.role,
      authTime: session.authenticatedAt,
      amr: session.amr,
      acr: session.acr,
    },
    { ...deps.tokens, now: deps.clock.now(), ttlSeconds: deps.tokens.accessTtlSeconds },
  );
}
