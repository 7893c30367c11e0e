import type { UserRole } from '../../db/index.js';

/**
 * Who is calling. Anonymous callers reach only public RPCs. A user carries
 * the expiry of the access token it presented, so long-lived calls can end
 * with it, and the token's assurance: when (`authTime`) and how (`amr`,
 * RFC 8176 values; `acr`, "aal1" or "aal2") they last proved who they are.
 */
export type Principal =
  | { kind: 'anonymous' }
  | {
      kind: 'user';
      userId: string;
      sessionId: string;
      role: UserRole;
      tokenExpiresAt: Date;
      authTime: Date;
      amr: string[];
      acr: string;
    }
  | { kind: 'service_account'; serviceAccountId: string; name: string; role: UserRole }
  | { kind: 'system' };

/** A signed-in person. */
export type UserPrincipal = Extract<Principal, { kind: 'user' }>;
