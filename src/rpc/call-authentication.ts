import type { Metadata } from '@grpc/grpc-js';
import { API_KEY_PREFIX, authenticateAccessToken, authenticateApiKey } from '../domain/auth/authentication.js';
import { authenticateClientCertificate } from '../domain/auth/certificate-authentication.js';
import { requireRecentAuthentication } from '../domain/auth/step-up.js';
import { DomainError } from '../domain/kernel/errors.js';
import type { Operation } from '../domain/kernel/operation.js';
import { principalHasPermission } from '../domain/kernel/permissions.js';
import type { Principal } from '../domain/kernel/principal.js';
import type { AccessPolicy } from './access-policy.js';
import { bearerToken } from './metadata.js';

/** Who a call acts as, and whether that caller vouches for forwarded client addresses. */
export interface CallAuthentication {
  principal: Principal;
  /** A service account does: a backend calling for its end user forwards the user's address. */
  vouchesForClient: boolean;
}

/**
 * Authenticates a call by its RPC's access policy, reading the bearer
 * credential once. People send an access token, backends a service account's
 * API key or, over mTLS, a client certificate bound to one (its URI SANs are
 * `certificateIdentities`, already verified against the client CA by the TLS
 * handshake). An RPC declaring a step-up also needs a recent authentication
 * of a user caller (auth/step-up.ts). On a public RPC the caller stays anonymous, but a backend may still
 * present its key there to vouch for the client address it forwards.
 * `anonymous` is the call's operation before anyone is known.
 */
export async function authenticateCall(
  anonymous: Operation,
  policy: AccessPolicy,
  metadata: Metadata,
  certificateIdentities: string[],
): Promise<CallAuthentication> {
  const token = bearerToken(metadata);
  const isApiKey = token?.startsWith(API_KEY_PREFIX) ?? false;
  if (policy.public) {
    if (token && isApiKey) await authenticateApiKey(anonymous, token);
    return { principal: { kind: 'anonymous' }, vouchesForClient: token !== undefined && isApiKey };
  }
  if (!token && certificateIdentities.length === 0) {
    throw new DomainError('unauthenticated', 'AUTHN-010', 'missing "authorization: Bearer <token>" metadata', {
      reason: 'MISSING_CREDENTIALS',
    });
  }
  const principal = !token
    ? await authenticateClientCertificate(anonymous, certificateIdentities)
    : isApiKey
      ? await authenticateApiKey(anonymous, token)
      : await authenticateAccessToken(anonymous, token);
  if (!principalHasPermission(principal, policy.permission)) {
    throw new DomainError('permission_denied', 'AUTHZ-001', `the "${policy.permission}" permission is required`, {
      reason: 'PERMISSION_DENIED',
    });
  }
  // After the permission: a caller who may not call the RPC at all learns nothing about their token's age.
  if (policy.stepUp) await requireRecentAuthentication(anonymous, principal);
  return { principal, vouchesForClient: principal.kind === 'service_account' };
}
