import { signedInPrincipal } from './callers.js';
import type { UserRole } from '../../db/index.js';

/** Who is calling. Anonymous callers reach only public RPCs. */
export type Principal =
  | { kind: 'anonymous' }
  | { kind: 'user'; userId: string; sessionId: string; role: UserRole }
  | { kind: 'service_account'; serviceAccountId: string; name: string; role: UserRole }
  | { kind: 'system' };

/** Facts about the call that audit events record. Built by the transport layer. */
export interface RequestContext {
  principal: Principal;
  requestId: string;
  ip: string | null;
  userAgent: string | null;
  /** Aborted when the client cancels or the deadline passes. */
  signal: AbortSignal;
}

/** A context for work the service does on its own (start-up, CLI). */
export function systemContext(requestId = 'system'): RequestContext {
  return { principal: { kind: 'system' }, requestId, ip: null, userAgent: null, signal: new AbortController().signal };
}

/** The signed-in user behind a call; `id` names the raising site when there is none. */
export function signedInUser(ctx: RequestContext, id: string): Extract<Principal, { kind: 'user' }> {
  return signedInPrincipal(ctx.principal, id);
}
