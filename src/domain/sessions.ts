import { v7 as uuidv7 } from 'uuid';
import { LockMode, Session, User, type EntityManager } from '../db/index.js';
import { generateOpaqueSecret, hashBearerSecret } from '../crypto/random.js';
import { signAccessToken } from '../crypto/tokens.js';
import { AuditEventType } from './audit.js';
import type { RequestContext } from './context.js';
import type { DomainDeps } from './deps.js';
import { DomainError, Violations } from './errors.js';
import { inTransaction, type UnitOfWork } from './unit-of-work.js';
import { checkEmail, checkPresentedPassword } from './validation.js';

/** Refresh tokens carry a prefix so secret scanners and humans recognise them. */
export const REFRESH_TOKEN_PREFIX = 'tsr_';
const REFRESH_TOKEN_MAX_LENGTH = 128;

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

const invalidCredentials = () =>
  new DomainError('unauthenticated', 'SESS-001', 'invalid email or password', { reason: 'INVALID_CREDENTIALS' });

/** PERMISSION_DENIED for signing in to a suspended or deleted account; given only after the credentials were right. */
export const accountInactive = (id: string, status: string) =>
  new DomainError('permission_denied', id, `the account is ${status}`, {
    reason: status === 'suspended' ? 'ACCOUNT_SUSPENDED' : 'ACCOUNT_DELETED',
  });

const invalidRefreshToken = (id: string) =>
  new DomainError('unauthenticated', id, 'the refresh token is invalid, expired or revoked', {
    reason: 'INVALID_REFRESH_TOKEN',
  });

/**
 * Signs a user in with email and password and opens a session.
 *
 * An unknown email is verified against a dummy hash, so it costs the same
 * time as a wrong password and fails with the same error. Every attempt,
 * failed or not, leaves an audit event. Account status is revealed only to
 * someone who knows the password.
 */
export async function loginWithPassword(
  deps: DomainDeps,
  em: EntityManager,
  ctx: RequestContext,
  input: { email: string; password: string },
): Promise<LoginResult> {
  const violations = new Violations();
  const email = checkEmail('email', input.email, violations);
  const password = checkPresentedPassword('password', input.password, violations);
  violations.throwIfAny('SESS-002');

  const user = await em.findOne(User, { email }, { populate: ['passwordHash'] });
  const verified = user?.passwordHash
    ? await deps.passwords.verify(user.passwordHash, password, ctx.signal)
    : await deps.passwords.verifyDummy(password, ctx.signal);

  if (!user || !verified) {
    await recordLoginFailure(deps, em, ctx, user?.id ?? null, user ? 'wrong_password' : 'unknown_account');
    throw invalidCredentials();
  }
  if (user.status !== 'active') {
    await recordLoginFailure(deps, em, ctx, user.id, `account_${user.status}`);
    throw accountInactive('SESS-003', user.status);
  }

  // Upgrade a hash made with older cost parameters while we hold the plain password.
  const upgradedHash = deps.passwords.needsRehash(user.passwordHash!)
    ? await deps.passwords.hash(password, ctx.signal)
    : undefined;

  return inTransaction(em, ctx, deps.clock, async (uow) => {
    // Re-read under a row lock: concurrent sign-ins of one account would otherwise
    // all write the version read before the password check, and all but one fail.
    const current = await uow.em.findOneOrFail(User, user.id, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
    // Suspended or deleted between the password check and the lock.
    if (current.status !== 'active') throw accountInactive('SESS-007', current.status);
    if (upgradedHash) current.passwordHash = upgradedHash;
    const tokens = await signIn(deps, uow, ctx, current, 'password', { rehashed: Boolean(upgradedHash) });
    return { user: current, tokens };
  });
}

/**
 * Completes a sign-in of an active user whose credentials were checked:
 * opens a session, sets last_login_at and records login.succeeded with the
 * sign-in `method` ("password", "oidc:<provider>").
 */
export async function signIn(
  deps: DomainDeps,
  uow: UnitOfWork,
  ctx: RequestContext,
  user: User,
  method: string,
  metadata: Record<string, unknown> = {},
): Promise<IssuedTokens> {
  const now = deps.clock.now();
  user.lastLoginAt = now;
  user.updatedAt = now;
  const { session, tokens } = await openSession(deps, uow, ctx, user);
  uow.record({
    type: AuditEventType.loginSucceeded,
    subjectUserId: user.id,
    actor: { type: 'user', id: user.id },
    metadata: { method, session_id: session.id, ...metadata },
  });
  return tokens;
}

/**
 * Revokes every open session of a user (suspension, deletion) and records
 * one session.revoked event naming them. Their access tokens fail on the
 * next call, their refresh tokens at once.
 */
export async function revokeUserSessions(deps: DomainDeps, uow: UnitOfWork, userId: string, reason: string): Promise<number> {
  const now = deps.clock.now();
  const open = await uow.em.find(Session, { user: userId, revokedAt: null }, { orderBy: { id: 'asc' } });
  for (const session of open) {
    session.revokedAt = now;
    session.revokeReason = reason;
  }
  if (open.length > 0) {
    uow.record({
      type: AuditEventType.sessionRevoked,
      subjectUserId: userId,
      metadata: { reason, count: open.length, session_ids: open.map((s) => s.id) },
    });
  }
  return open.length;
}

/** Records a refused sign-in in a transaction of its own (the refusal itself changes nothing). */
export async function recordLoginFailure(
  deps: DomainDeps,
  em: EntityManager,
  ctx: RequestContext,
  userId: string | null,
  reason: string,
  method = 'password',
): Promise<void> {
  await inTransaction(em, ctx, deps.clock, async (uow) => {
    uow.record({ type: AuditEventType.loginFailed, subjectUserId: userId, metadata: { method, reason } });
  });
}

/** Creates a session for `user` and issues its first token pair. */
async function openSession(
  deps: DomainDeps,
  uow: UnitOfWork,
  ctx: RequestContext,
  user: User,
): Promise<{ session: Session; tokens: IssuedTokens }> {
  const now = deps.clock.now();
  const refreshToken = generateOpaqueSecret(REFRESH_TOKEN_PREFIX);
  const session = uow.em.create(Session, {
    id: uuidv7(),
    user,
    refreshTokenHash: hashBearerSecret(refreshToken),
    createdAt: now,
    expiresAt: new Date(now.getTime() + deps.tokens.refreshTtlSeconds * 1000),
    lastUsedAt: now,
    revokedAt: null,
    revokeReason: null,
    ip: ctx.ip,
    userAgent: ctx.userAgent,
  });
  const tokens = await issueTokens(deps, user, session, refreshToken);
  return { session, tokens };
}

async function issueTokens(deps: DomainDeps, user: User, session: Session, refreshToken: string): Promise<IssuedTokens> {
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

function checkRefreshTokenShape(raw: string): string {
  const violations = new Violations();
  if (raw.length === 0) violations.add('refresh_token', 'is required');
  else if (raw.length > REFRESH_TOKEN_MAX_LENGTH) violations.add('refresh_token', `must be at most ${REFRESH_TOKEN_MAX_LENGTH} characters`);
  violations.throwIfAny('SESS-004');
  return raw;
}

/**
 * Exchanges a refresh token for a new pair, rotating the refresh token.
 *
 * The session row is locked, so of two concurrent refreshes with the same
 * token exactly one succeeds: the other then finds no row with that hash.
 */
export async function rotateRefreshToken(
  deps: DomainDeps,
  em: EntityManager,
  ctx: RequestContext,
  rawToken: string,
): Promise<IssuedTokens> {
  const presentedHash = hashBearerSecret(checkRefreshTokenShape(rawToken));
  return inTransaction(em, ctx, deps.clock, async (uow) => {
    const now = deps.clock.now();
    const session = await uow.em.findOne(
      Session,
      { refreshTokenHash: presentedHash },
      { lockMode: LockMode.PESSIMISTIC_WRITE },
    );
    if (!session || session.revokedAt || session.expiresAt <= now) throw invalidRefreshToken('SESS-005');
    const user = await uow.em.findOneOrFail(User, session.user.id);
    if (user.status !== 'active') throw invalidRefreshToken('SESS-006');

    const refreshToken = generateOpaqueSecret(REFRESH_TOKEN_PREFIX);
    session.refreshTokenHash = hashBearerSecret(refreshToken);
    session.lastUsedAt = now;
    session.expiresAt = new Date(now.getTime() + deps.tokens.refreshTtlSeconds * 1000);
    uow.record({
      type: AuditEventType.tokenRefreshed,
      subjectUserId: user.id,
      actor: { type: 'user', id: user.id },
      metadata: { session_id: session.id },
    });
    return issueTokens(deps, user, session, refreshToken);
  });
}

/**
 * Ends the session of a refresh token. Idempotent: an unknown or already
 * revoked token succeeds too, and reveals nothing (as RFC 7009 revocation).
 */
export async function logout(deps: DomainDeps, em: EntityManager, ctx: RequestContext, rawToken: string): Promise<void> {
  const presentedHash = hashBearerSecret(checkRefreshTokenShape(rawToken));
  await inTransaction(em, ctx, deps.clock, async (uow) => {
    const session = await uow.em.findOne(
      Session,
      { refreshTokenHash: presentedHash },
      { lockMode: LockMode.PESSIMISTIC_WRITE },
    );
    if (!session || session.revokedAt) return;
    session.revokedAt = deps.clock.now();
    session.revokeReason = 'logout';
    uow.record({
      type: AuditEventType.sessionLoggedOut,
      subjectUserId: session.user.id,
      actor: { type: 'user', id: session.user.id },
      metadata: { session_id: session.id },
    });
  });
}
