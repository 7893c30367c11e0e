import type { UserRole } from '../db/index.js';

/**
 * Role -> permission matrix. RPCs declare the permission they need in the
 * proto (tessera.v1.access_policy); the transport layer checks it here.
 */
export const ROLE_PERMISSIONS: Record<UserRole, readonly string[]> = {
  user: ['profile:read', 'profile:write', 'sessions:own', 'account:own'],
  admin: ['profile:read', 'profile:write', 'users:read', 'users:write', 'sessions:own', 'account:own', 'keys:rotate', 'audit:read'],
  auditor: ['profile:read', 'profile:write', 'users:read', 'sessions:own', 'account:own', 'audit:read'],
  service: ['profile:read', 'users:read', 'users:write'],
};

/** Every permission any role grants; a policy naming another one is a bug caught at start-up. */
export const KNOWN_PERMISSIONS: ReadonlySet<string> = new Set(Object.values(ROLE_PERMISSIONS).flat());

export function roleHasPermission(role: UserRole, permission: string): boolean {
  return ROLE_PERMISSIONS[role].includes(permission);
}
