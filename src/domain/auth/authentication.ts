import type { Operation } from '../kernel/operation.js';
import { findServiceAccountByKeyHash, findSessionState, touchServiceAccount, USER_ROLES, type UserRole } from '../../db/index.js';
import { hashBearerSecret } from '../../crypto/random.js';
import { accessTokenKid, InvalidTokenError, verifyAccessToken, type VerifiedAccessToken } from '../../crypto/tokens.js';
import type { Principal, UserPrincipal } from '../kernel/principal.js';
import { DomainError, Violations } from '../kernel/errors.js';
import { isUuid } from '../kernel/validation.js';

/** API keys carry a prefix so secret scanners and humans recognise them, and the transport can route them. */
export const API_KEY_PREFIX = 'tsk_';
const API_KEY_SHAPE = /^tsk_[A-Za-z0-9_-]{43}$/;
/** last_used_at of a service account is written at most once per this period, not on every call. */
const LAST_USED_GRANULARITY_MS = 60_000;

const invalidToken = (id: string, cause?: unknown) =>
  new DomainError('unauthenticated', id, 'the access token is invalid or expired', { reason: 'INVALID_TOKEN', cause });

/**
 * Turns a bearer access token into a principal.
 *
 * Besides the signature and claims, the session and the user are checked on
 * every call (one primary-key query), so logout, revocation and suspension
 * take effect at once instead of when the token expires. The role comes from
 * the database, not from the token, for the same reason.
 */
export async function authenticateAccessToken(op: Operation, token: string): Promise<Principal> {
  return (await checkAccessToken(op, token)).principal;
}

/** What IntrospectToken tells about an access token (RFC 7662); only `active` when it is not. */
export type Introspection =
  | { active: false }
  | {
      active: true;
      subject: string;
      sessionId: string;
      role: UserRole;
      tokenId: string;
      issuedAt: Date;
      expiresAt: Date;
      authTime: Date;
      amr: string[];
      acr: string;
    };

const INTROSPECTED_TOKEN_MAX_LENGTH = 8192;

/**
 * Checks an access token the way authenticated calls do: signature, claims,
 * then the session and the user. Any reason to refuse it (expired, tampered,
 * foreign, revoked session, inactive user) yields `{ active: false }` and
 * nothing else, so the answer reveals no more than the token holder knows.
 */
export async function introspectAccessToken(op: Operation, token: string): Promise<Introspection> {
  const violations = new Violations();
  if (token === '') violations.add('token', 'is required');
  else if (token.length > INTROSPECTED_TOKEN_MAX_LENGTH)
    violations.add('token', `must be at most ${INTROSPECTED_TOKEN_MAX_LENGTH} characters`);
  violations.throwIfAny('AUTHN-007');
  try {
    const { principal, claims } = await checkAccessToken(op, token);
    if (principal.kind !== 'user') return { active: false };
    return {
      active: true,
      subject: principal.userId,
      sessionId: principal.sessionId,
      role: principal.role,
      tokenId: claims.jti,
      issuedAt: new Date(claims.iat * 1000),
      expiresAt: new Date(claims.exp * 1000),
      authTime: principal.authTime,
      amr: principal.amr,
      acr: principal.acr,
    };
  } catch (err) {
    if (err instanceof DomainError && err.kind === 'unauthenticated') return { active: false };
    throw err;
  }
}

async function checkAccessToken(op: Operation, token: string): Promise<{ principal: Principal; claims: VerifiedAccessToken }> {
  const claims = await verifyWithKeyReload(op, token);
  const principal = await sessionPrincipal(op, {
    userId: claims.sub,
    sessionId: claims.sid,
    tokenExpiresAt: new Date(claims.exp * 1000),
    authTime: claims.authTime,
    amr: claims.amr,
    acr: claims.acr,
  });
  return { principal, claims };
}

/**
 * The principal of a verified access token as of now: its session and user
 * read in one primary-key query, refused once the token expired, the session
 * ended or the user is no longer active; the role is the user's current one.
 * Long-lived calls run it again to re-check their caller.
 */
export async function sessionPrincipal(op: Operation, token: Omit<UserPrincipal, 'kind' | 'role'>): Promise<UserPrincipal> {
  // The sessions.id column is a uuid: anything else would fail the query with INTERNAL.
  if (!isUuid(token.sessionId)) throw invalidToken('AUTHN-006');
  const state = await findSessionState(op.em, token.sessionId);
  const now = op.clock.now();
  if (!state || state.userId !== token.userId) throw invalidToken('AUTHN-002');
  // Status first: suspension and deletion also revoke the sessions, and the status is the better answer.
  if (state.userStatus !== 'active') {
    throw new DomainError('unauthenticated', 'AUTHN-004', `the account is ${state.userStatus}`, {
      reason: state.userStatus === 'suspended' ? 'ACCOUNT_SUSPENDED' : 'ACCOUNT_DELETED',
    });
  }
  if (state.revokedAt || state.expiresAt <= now) {
    throw new DomainError('unauthenticated', 'AUTHN-003', 'the session has ended', { reason: 'SESSION_REVOKED' });
  }
  if (token.tokenExpiresAt <= now) throw invalidToken('AUTHN-008');
  if (!(USER_ROLES as readonly string[]).includes(state.userRole)) throw invalidToken('AUTHN-005');
  return {
    kind: 'user',
    userId: state.userId,
    sessionId: state.sessionId,
    role: state.userRole as UserRole,
    tokenExpiresAt: token.tokenExpiresAt,
    authTime: token.authTime,
    amr: token.amr,
    acr: token.acr,
  };
}

/**
 * Turns a service account's API key into a principal: one indexed query per
 * call, so a deleted account's key stops working on its next call.
 */
export async function authenticateApiKey(op: Operation, apiKey: string): Promise<Principal> {
  const invalidKey = (id: string) =>
    new DomainError('unauthenticated', id, 'the API key is invalid or revoked', { reason: 'INVALID_API_KEY' });
  if (!API_KEY_SHAPE.test(apiKey)) throw invalidKey('AUTHN-011');
  const account = await findServiceAccountByKeyHash(op.em, hashBearerSecret(apiKey));
  if (!account || account.revokedAt) throw invalidKey('AUTHN-012');
  if (!(USER_ROLES as readonly string[]).includes(account.role)) throw invalidKey('AUTHN-013');
  const now = op.clock.now();
  if (!account.lastUsedAt || now.getTime() - account.lastUsedAt.getTime() >= LAST_USED_GRANULARITY_MS) {
    await touchServiceAccount(op.em, account.id, now, LAST_USED_GRANULARITY_MS);
  }
  return { kind: 'service_account', serviceAccountId: account.id, name: account.name, role: account.role as UserRole };
}

async function verifyWithKeyReload(op: Operation, token: string) {
  const settings = { issuer: op.deps.tokens.issuer, audience: op.deps.tokens.audience };
  try {
    return await verifyAccessToken(token, op.deps.signingKeys.keyResolver(), { ...settings, now: op.clock.now() });
  } catch (err) {
    if (!(err instanceof InvalidTokenError)) throw err;
    // A kid we have not seen may come from a key another instance just rotated in.
    if (await op.deps.signingKeys.reloadForUnknownKid(op.em, accessTokenKid(token))) {
      try {
        return await verifyAccessToken(token, op.deps.signingKeys.keyResolver(), { ...settings, now: op.clock.now() });
      } catch (retryErr) {
        throw invalidToken('AUTHN-001', retryErr);
      }
    }
    throw invalidToken('AUTHN-001', err);
  }
}
