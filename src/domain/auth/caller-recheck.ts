import { findServiceAccountById, USER_ROLES, type UserRole } from '../../db/index.js';
import { DomainError } from '../kernel/errors.js';
import type { Operation } from '../kernel/operation.js';
import { principalHasPermission } from '../kernel/permissions.js';
import type { Principal } from '../kernel/principal.js';
import { sessionPrincipal } from './authentication.js';

/**
 * Checks again, against the database, that a long-lived call's caller still
 * holds `permission`: the user's token has not expired, their session is
 * open, their account active and their current role grants it; a service
 * account is not deleted and its current role grants it. One primary-key
 * query. Throws UNAUTHENTICATED or PERMISSION_DENIED otherwise.
 *
 * Whatever committed before this call starts (a revocation, a suspension, a
 * demotion, on any instance) is seen, so a stream that runs it before each
 * delivery never hands out an event written after its caller lost access.
 */
export async function recheckCaller(op: Operation, permission: string): Promise<void> {
  const current = await currentPrincipal(op, op.principal);
  if (!principalHasPermission(current, permission)) {
    throw new DomainError('permission_denied', 'AUTHZ-002', `the "${permission}" permission is required`, {
      reason: 'PERMISSION_DENIED',
    });
  }
}

async function currentPrincipal(op: Operation, principal: Principal): Promise<Principal> {
  switch (principal.kind) {
    case 'user':
      return sessionPrincipal(op, principal);
    case 'service_account': {
      const account = await findServiceAccountById(op.em, principal.serviceAccountId);
      if (!account || account.revokedAt || !(USER_ROLES as readonly string[]).includes(account.role)) {
        throw new DomainError('unauthenticated', 'AUTHN-014', 'the API key is invalid or revoked', {
          reason: 'INVALID_API_KEY',
        });
      }
      return { ...principal, role: account.role as UserRole };
    }
    default:
      return principal;
  }
}
