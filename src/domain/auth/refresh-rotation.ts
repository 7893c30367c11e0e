import { lockSessionByRefreshHash, RefreshTokenHistory, Session, User } from '../../db/index.js';
import { generateOpaqueSecret, hashBearerSecret } from '../../crypto/random.js';
import { AuditEventType } from '../kernel/audit-record.js';
import { DomainError, Violations } from '../kernel/errors.js';
import type { Operation } from '../kernel/operation.js';
import { inTransaction, type UnitOfWork } from '../kernel/unit-of-work.js';
import { issueTokens, REFRESH_TOKEN_PREFIX, refreshExpiry, type IssuedTokens } from './sign-in.js';

const REFRESH_TOKEN_MAX_LENGTH = 128;

const invalidRefreshToken = (id: string) =>
  new DomainError('unauthenticated', id, 'the refresh token is invalid, expired or revoked', {
    reason: 'INVALID_REFRESH_TOKEN',
  });

export function checkRefreshTokenShape(raw: string): string {
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
 * Every token a session rotated out is remembered, as a hash, while the
 * session lives (RFC 9700 reuse detection, the whole family). The one the last
 * rotation replaced, presented again within the grace window, yields the same
 * successor, so a client's retry or two tabs refreshing at once do not sign the
 * user out; the session row lock makes the second wait for the first. Any
 * other rotated-out token, or that one after the window, means two parties
 * hold the session's tokens: the whole session is revoked, access tokens
 * included, and the event is audited.
 */
export async function rotateRefreshToken(op: Operation, rawToken: string): Promise<IssuedTokens> {
  const presentedHash = hashBearerSecret(checkRefreshTokenShape(rawToken));
  const outcome = await inTransaction(op, async (uow): Promise<IssuedTokens | 'reused'> => {
    const now = op.clock.now();
    const session = await lockSessionByRefreshHash(uow.em, presentedHash);
    if (!session || session.revokedAt || session.expiresAt <= now) throw invalidRefreshToken('SESS-005');
    const user = await uow.em.findOneOrFail(User, session.user.id);
    if (user.status !== 'active') throw invalidRefreshToken('SESS-006');

    if (session.refreshTokenHash !== presentedHash) return replayRotatedToken(uow, session, user, presentedHash);

    const refreshToken = generateOpaqueSecret(REFRESH_TOKEN_PREFIX);
    uow.em.create(RefreshTokenHistory, { tokenHash: presentedHash, session, rotatedAt: now });
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

/** Binds a stored successor to its session and to the token it replaced. */
function successorContext(sessionId: string, previousHash: string): string {
  return `${sessionId}:${previousHash}`;
}

/** A rotated-out token came back: the last one gets the same successor within the grace window, else the session ends. */
async function replayRotatedToken(
  uow: UnitOfWork,
  session: Session,
  user: User,
  presentedHash: string,
): Promise<IssuedTokens | 'reused'> {
  const now = uow.clock.now();
  const age = now.getTime() - (session.rotatedAt?.getTime() ?? 0);
  const withinGrace = age <= uow.deps.tokens.refreshReuseGraceSeconds * 1000;
  if (presentedHash === session.previousRefreshTokenHash && session.successorCiphertext && withinGrace) {
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
  // The family is dead: its hashes serve no further detection.
  await uow.em.nativeDelete(RefreshTokenHistory, { session: session.id });
  uow.record({
    type: AuditEventType.refreshTokenReuseDetected,
    subjectUserId: user.id,
    metadata: {
      session_id: session.id,
      seconds_since_rotation: Math.round(age / 1000),
      last_rotated_out: presentedHash === session.previousRefreshTokenHash,
    },
  });
  return 'reused';
}
