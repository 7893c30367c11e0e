import type { UserRole } from '../../db/index.js';

/**
 * Who is calling. Anonymous callers reach only public RPCs. A user carries
 * the expiry of the access token it presented, so long-lived calls can end
 * with it.
 */
export type Principal =
  | { kind: 'anonymous' }
  | { kind: 'user'; userId: string; sessionId: string; role: UserRole; tokenExpiresAt: Date }
  | { kind: 'service_account'; serviceAccountId: string; name: string; role: UserRole }
  | { kind: 'system' };

/** A signed-in person. */
export type UserPrincipal = Extract<Principal, { kind: 'user' }>;
