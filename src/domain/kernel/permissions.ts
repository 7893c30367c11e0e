import type { UserRole } from '../../db/index.js';
import type { Principal } from './principal.js';

/**
 * Role -> permission matrix. RPCs declare the permission they need in the
 * proto (tessera.v1.access_policy); the transport layer checks it here. The
 * README shows the same matrix.
 *
 * - account:read, profile:*, social_logins:*: a person's own account. Reading
 *   someone else's also needs users:read.
 * - users:read / users:write: other accounts (identity administration).
 * - roles:assign: changing roles and anything of an administrator's account;
 *   no RPC declares it, the domain checks it inside users:write RPCs.
 * - service_accounts:manage: backends' identities and keys.
 * - account:own, sessions:own: email, password and session management of one's own account.
 * - keys:rotate: signing key rotation. audit:read: the audit trail.
 */
/** What every person may do with their own account. */
const SELF_SERVICE = [
  'account:read',
  'account:own',
  'profile:read',
  'profile:write',
  'sessions:own',
  'social_logins:read',
  'social_logins:write',
] as const;

const ROLE_PERMISSIONS: Record<UserRole, readonly string[]> = {
  user: [...SELF_SERVICE],
  admin: [...SELF_SERVICE, 'users:read', 'users:write', 'roles:assign', 'service_accounts:manage', 'keys:rotate', 'audit:read'],
  auditor: [...SELF_SERVICE, 'users:read', 'audit:read'],
  service: ['account:read', 'profile:read', 'social_logins:read', 'users:read', 'users:write'],
};

/** Every permission any role grants; a policy naming another one is a bug caught at start-up. */
export const KNOWN_PERMISSIONS: ReadonlySet<string> = new Set(Object.values(ROLE_PERMISSIONS).flat());

export function roleHasPermission(role: UserRole, permission: string): boolean {
  return ROLE_PERMISSIONS[role].includes(permission);
}

/** The role a principal acts with; the system (start-up, CLI) and anonymous callers have none. */
function roleOf(principal: Principal): UserRole | undefined {
  return principal.kind === 'user' || principal.kind === 'service_account' ? principal.role : undefined;
}

/** Whether a principal may do what `permission` covers. The system may do anything; anonymous callers nothing. */
export function principalHasPermission(principal: Principal, permission: string): boolean {
  if (principal.kind === 'system') return true;
  const role = roleOf(principal);
  return role !== undefined && roleHasPermission(role, permission);
}

/** Whether `role` grants nothing beyond what the acting principal's role grants. */
export function roleWithinPrincipal(role: UserRole, principal: Principal): boolean {
  if (principal.kind === 'system') return true;
  const own = roleOf(principal);
  return own !== undefined && ROLE_PERMISSIONS[role].every((p) => roleHasPermission(own, p));
}
