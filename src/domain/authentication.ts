import { decodeProtectedHeader } from 'jose';
import { findSessionState, USER_ROLES, type EntityManager, type UserRole } from '../db/index.js';
import { InvalidTokenError, verifyAccessToken } from '../crypto/tokens.js';
import type { Principal } from './context.js';
import type { DomainDeps } from './deps.js';
import { DomainError } from './errors.js';
import { isUuid } from './validation.js';

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
export async function authenticateAccessToken(deps: DomainDeps, em: EntityManager, token: string): Promise<Principal> {
  const claims = await verifyWithKeyReload(deps, em, token);
  // The sessions.id column is a uuid: anything else would fail the query with INTERNAL.
  if (!isUuid(claims.sid)) throw invalidToken('AUTHN-006');
  const state = await findSessionState(em, claims.sid);
  const now = deps.clock.now();
  if (!state || state.userId !== claims.sub) throw invalidToken('AUTHN-002');
  if (state.revokedAt || state.expiresAt <= now) {
    throw new DomainError('unauthenticated', 'AUTHN-003', 'the session has ended', { reason: 'SESSION_REVOKED' });
  }
  if (state.userStatus !== 'active') {
    throw new DomainError('unauthenticated', 'AUTHN-004', `the account is ${state.userStatus}`, {
      reason: state.userStatus === 'suspended' ? 'ACCOUNT_SUSPENDED' : 'ACCOUNT_DELETED',
    });
  }
  if (!(USER_ROLES as readonly string[]).includes(state.userRole)) throw invalidToken('AUTHN-005');
  return { kind: 'user', userId: state.userId, sessionId: state.sessionId, role: state.userRole as UserRole };
}

async function verifyWithKeyReload(deps: DomainDeps, em: EntityManager, token: string) {
  const settings = { issuer: deps.tokens.issuer, audience: deps.tokens.audience };
  try {
    return await verifyAccessToken(token, deps.signingKeys.keyResolver(), { ...settings, now: deps.clock.now() });
  } catch (err) {
    if (!(err instanceof InvalidTokenError)) throw err;
    // A kid we have not seen may come from a key another instance just rotated in.
    if (await deps.signingKeys.reloadForUnknownKid(em, kidOf(token))) {
      try {
        return await verifyAccessToken(token, deps.signingKeys.keyResolver(), { ...settings, now: deps.clock.now() });
      } catch (retryErr) {
        throw invalidToken('AUTHN-001', retryErr);
      }
    }
    throw invalidToken('AUTHN-001', err);
  }
}

function kidOf(token: string): string | undefined {
  try {
    return decodeProtectedHeader(token).kid;
  } catch {
    return undefined;
  }
}
