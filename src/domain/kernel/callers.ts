import type { Operation } from './operation.js';
import type { Principal, UserPrincipal } from './principal.js';
import { DomainError, Violations } from './errors.js';
import { principalHasPermission } from './permissions.js';
import { checkUuid } from './validation.js';

/** Error ids of one call site, so each raising place stays greppable. */
export interface CallerErrorIds {
  /** The call needs a signed-in user and has none. */
  noUser: string;
  /** user_id is malformed (or missing where the caller is a service account). */
  invalid: string;
  /** Someone else's data without users:read. */
  denied: string;
}

/** The signed-in user's id; service accounts and anonymous callers have no account of their own. */
export function callerUserId(principal: Principal, id: string): string {
  return signedInPrincipal(principal, id).userId;
}

/** The signed-in user behind a call; `id` names the raising site when there is none. */
function signedInPrincipal(principal: Principal, id: string): UserPrincipal {
  if (principal.kind === 'user') return principal;
  if (principal.kind === 'service_account') {
    throw new DomainError('permission_denied', id, 'this call acts on the signed-in user; a service account has none', {
      reason: 'PERMISSION_DENIED',
    });
  }
  throw new DomainError('unauthenticated', id, 'a signed-in user is required');
}

/**
 * Resolves the `user_id` of a read: empty means the caller's own account;
 * anyone else's needs the "users:read" permission. A caller without it gets
 * PERMISSION_DENIED whether or not the id exists, so ids cannot be probed.
 */
export function readableUserId(principal: Principal, requested: string, ids: CallerErrorIds): string {
  if (requested === '') {
    if (principal.kind === 'service_account') {
      new Violations().add('user_id', 'is required when calling with an API key').throwIfAny(ids.invalid);
    }
    return callerUserId(principal, ids.noUser);
  }
  const violations = new Violations();
  const userId = checkUuid('user_id', requested, violations);
  violations.throwIfAny(ids.invalid);
  if (principal.kind === 'user' && principal.userId === userId) return userId;
  if (principalHasPermission(principal, 'users:read')) return userId;
  throw new DomainError('permission_denied', ids.denied, "reading another user's data needs the users:read permission", {
    reason: 'PERMISSION_DENIED',
  });
}

/** The signed-in user behind an operation; `id` names the raising site when there is none. */
export function signedInUser(op: Operation, id: string): UserPrincipal {
  return signedInPrincipal(op.principal, id);
}
