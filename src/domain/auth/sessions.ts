import { v7 as uuidv7 } from 'uuid';
import type { Operation } from '../kernel/operation.js';
import { LockMode, Session, User, type EntityManager } from '../../db/index.js';
import { generateOpaqueSecret, hashBearerSecret } from '../../crypto/random.js';
import { signAccessToken } from '../../crypto/tokens.js';
import { AuditEventType } from '../kernel/audit-record.js';
import type { DomainDeps } from '../kernel/deps.js';
import { DomainError, Violations } from '../kernel/errors.js';
import { inTransaction, type UnitOfWork } from '../kernel/unit-of-work.js';
import { checkEmail, checkPresentedPassword } from '../kernel/validation.js';

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
export async function loginWithPassword(op: Operation, input: { email: string; password: string }): Promise<LoginResult> {
  const violations = new Violations();
  const email = checkEmail('email', input.email, violations);
  const password = checkPresentedPassword('password', input.password, violations);
  violations.throwIfAny('SESS-002');

  const user = await op.em.findOne(User, { email }, { populate: ['passwordHash'] });
  try {
    await op.deps.loginThrottle.assertAllowed(email, op.ip);
  } catch (err) {
    await recordLoginFailure(op, user?.id ?? null, 'too_many_attempts');
    throw err;
  }
  const check = user?.passwordHash
    ? await op.deps.passwords.verify({ hash: user.passwordHash, pepperId: user.passwordPepperId ?? null }, password, op.signal)
    : { ok: await op.deps.passwords.verifyDummy(password, op.signal), needsRehash: false };

  if (!user || !check.ok) {
    await op.deps.loginThrottle.recordFailure(email, op.ip);
    await recordLoginFailure(op, user?.id ?? null, user ? 'wrong_password' : 'unknown_account');
    throw invalidCredentials();
  }
  await op.deps.loginThrottle.recordSuccess(email);
  if (user.status !== 'active') {
    await recordLoginFailure(op, user.id, `account_${user.status}`);
    throw accountInactive('SESS-003', user.status);
  }

  // Upgrade a legacy hash (imported scheme, older cost parameters or pepper) while we hold the plain password.
  const upgradedHash = check.needsRehash ? await op.deps.passwords.hash(password, op.signal) : undefined;

  return inTransaction(op, async (uow) => {
    // Re-read under a row lock: concurrent sign-ins of one account would otherwise
    // all write the version read before the password check, and all but one fail.
    const current = await uow.em.findOneOrFail(User, user.id, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
    // Suspended or deleted between the password check and the lock.
    if (current.status !== 'active') throw accountInactive('SESS-007', current.status);
    if (upgradedHash) {
      current.passwordHash = upgradedHash.hash;
      current.passwordPepperId = upgradedHash.pepperId;
    }
    const tokens = await signIn(uow, current, 'password', { rehashed: Boolean(upgradedHash) });
    return { user: current, tokens };
  });
}

/**
 * Completes a sign-in of an active user whose credentials were checked:
 * opens a session, sets last_login_at and records login.succeeded with the
 * sign-in `method` ("password", "oidc:<provider>").
 */
export async function signIn(
  uow: UnitOfWork,
  user: User,
  method: string,
  metadata: Record<string, unknown> = {},
): Promise<IssuedTokens> {
  const now = uow.clock.now();
  user.lastLoginAt = now;
  user.updatedAt = now;
  const { session, tokens } = await openSession(uow, user);
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
export async function revokeUserSessions(uow: UnitOfWork, userId: string, reason: string): Promise<number> {
  const now = uow.clock.now();
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
  op: Operation,
  userId: string | null,
  reason: string,
  method = 'password',
): Promise<void> {
  await inTransaction(op, async (uow) => {
    uow.record({ type: AuditEventType.loginFailed, subjectUserId: userId, metadata: { method, reason } });
  });
}

/**
 * When a session's refresh token lapses if it is refreshed at `now`: after the
 * idle timeout, but never past the session's absolute lifetime.
 */
function refreshExpiry(deps: DomainDeps, createdAt: Date, now: Date): Date {
  const idle = now.getTime() + deps.tokens.sessionIdleTimeoutSeconds * 1000;
  const absolute = createdAt.getTime() + deps.tokens.sessionAbsoluteLifetimeSeconds * 1000;
  return new Date(Math.min(idle, absolute));
}

/** Creates a session for `user` and issues its first token pair. */
async function openSession(uow: UnitOfWork, user: User): Promise<{ session: Session; tokens: IssuedTokens }> {
  const now = uow.clock.now();
  const refreshToken = generateOpaqueSecret(REFRESH_TOKEN_PREFIX);
  const session = uow.em.create(Session, {
    id: uuidv7(),
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
    ip: uow.ip,
    userAgent: uow.userAgent,
  });
  const tokens = await issueTokens(uow.deps, user, session, refreshToken);
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
  else if (raw.length > REFRESH_TOKEN_MAX_LENGTH)
    violations.add('refresh_token', `must be at most ${REFRESH_TOKEN_MAX_LENGTH} characters`);
  violations.throwIfAny('SESS-004');
  return raw;
}

/**
 * Exchanges a refresh token for a new pair, rotating the refresh token.
 *
 * The token the last rotation replaced is remembered (RFC 9700 reuse
 * detection). Presented again within the grace window, it yields the same
 * successor, so a client's retry or two tabs refreshing at once do not sign the
 * user out; the session row lock makes the second wait for the first. Presented
 * after the window, it means two parties hold the session's tokens: the whole
 * session is revoked, access tokens included, and the event is audited.
 */
export async function rotateRefreshToken(op: Operation, rawToken: string): Promise<IssuedTokens> {
  const presentedHash = hashBearerSecret(checkRefreshTokenShape(rawToken));
  const outcome = await inTransaction(op, async (uow): Promise<IssuedTokens | 'reused'> => {
    const now = op.clock.now();
    const session = await findSessionByRefreshHash(uow.em, presentedHash);
    if (!session || session.revokedAt || session.expiresAt <= now) throw invalidRefreshToken('SESS-005');
    const user = await uow.em.findOneOrFail(User, session.user.id);
    if (user.status !== 'active') throw invalidRefreshToken('SESS-006');

    if (session.refreshTokenHash !== presentedHash) return replayRotatedToken(uow, session, user, presentedHash);

    const refreshToken = generateOpaqueSecret(REFRESH_TOKEN_PREFIX);
    session.previousRefreshTokenHash = presentedHash;
    session.refreshTokenHash = hashBearerSecret(refreshToken);
    session.rotatedAt = now;
    session.successorCiphertext =
      op.deps.tokens.refreshReuseGraceSeconds > 0
        ? op.deps.refreshSuccessorBox.seal(refreshToken, successorContext(session.id, presentedHash))
        : null;
    session.lastUsedAt = now;
    session.expiresAt = refreshExpiry(op.deps, session.createdAt, now);
    uow.record({
      type: AuditEventType.tokenRefreshed,
      subjectUserId: user.id,
      actor: { type: 'user', id: user.id },
      metadata: { session_id: session.id },
    });
    return issueTokens(op.deps, user, session, refreshToken);
  });
  if (outcome === 'reused') {
    throw new DomainError('unauthenticated', 'SESS-008', 'the refresh token was already used; the session has been ended', {
      reason: 'REFRESH_TOKEN_REUSED',
    });
  }
  return outcome;
}

/** The session whose current or previous refresh token has this hash, locked for update. */
function findSessionByRefreshHash(em: EntityManager, hash: string): Promise<Session | null> {
  return em.findOne(
    Session,
    { $or: [{ refreshTokenHash: hash }, { previousRefreshTokenHash: hash }] },
    { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
  );
}

/** Binds a stored successor to its session and to the token it replaced. */
function successorContext(sessionId: string, previousHash: string): string {
  return `${sessionId}:${previousHash}`;
}

/** The rotated token came back: the same successor within the grace window, else the session ends. */
async function replayRotatedToken(
  uow: UnitOfWork,
  session: Session,
  user: User,
  presentedHash: string,
): Promise<IssuedTokens | 'reused'> {
  const now = uow.clock.now();
  const age = now.getTime() - (session.rotatedAt?.getTime() ?? 0);
  if (session.successorCiphertext && age <= uow.deps.tokens.refreshReuseGraceSeconds * 1000) {
    const successor = uow.deps.refreshSuccessorBox.open(session.successorCiphertext, successorContext(session.id, presentedHash));
    session.lastUsedAt = now;
    uow.record({
      type: AuditEventType.tokenRefreshed,
      subjectUserId: user.id,
      actor: { type: 'user', id: user.id },
      metadata: { session_id: session.id, replayed_within_grace: true },
    });
    return issueTokens(uow.deps, user, session, successor);
  }
  session.revokedAt = now;
  session.revokeReason = 'refresh_token_reuse';
  session.successorCiphertext = null;
  uow.record({
    type: AuditEventType.refreshTokenReuseDetected,
    subjectUserId: user.id,
    metadata: { session_id: session.id, seconds_since_rotation: Math.round(age / 1000) },
  });
  return 'reused';
}

/**
 * Ends the session of a refresh token (the current one, or the one it just
 * replaced). Idempotent: an unknown or already revoked token succeeds too, and
 * reveals nothing (as RFC 7009 revocation).
 */
export async function logout(op: Operation, rawToken: string): Promise<void> {
  const presentedHash = hashBearerSecret(checkRefreshTokenShape(rawToken));
  await inTransaction(op, async (uow) => {
    const session = await findSessionByRefreshHash(uow.em, presentedHash);
    if (!session || session.revokedAt) return;
    session.revokedAt = op.clock.now();
    session.revokeReason = 'logout';
    session.successorCiphertext = null;
    uow.record({
      type: AuditEventType.sessionLoggedOut,
      subjectUserId: session.user.id,
      actor: { type: 'user', id: session.user.id },
      metadata: { session_id: session.id },
    });
  });
}
