import { registerUser } from '../domain/auth/registration.js';
import { introspectAccessToken } from '../domain/auth/authentication.js';
import { requestEmailChange, requestEmailVerification, verifyEmail } from '../domain/auth/email-verification.js';
import { changePassword, requestPasswordReset, resetPassword } from '../domain/auth/password-changes.js';
import { listOwnSessions, revokeAllOwnSessions, revokeOwnSession } from '../domain/auth/session-management.js';
import { loginWithPassword, logout, rotateRefreshToken } from '../domain/auth/sessions.js';
import { loginWithProvider } from '../domain/auth/social-logins.js';
import { AuthServiceService } from '../gen/tessera/v1/auth_service.js';
import { toIntrospection, toSessionMessage, toTokenPair, toUserMessage } from './convert.js';
import { implementService, type RpcRuntime } from './handler.js';

/** tessera.v1.AuthService: decode -> one domain call -> encode. */
export function authService(rt: RpcRuntime) {
  /** Counts a sign-in's outcome in the login_attempts metric. */
  const countLoginAttempt = <T>(login: Promise<T>): Promise<T> =>
    login.then(
      (result) => {
        rt.metrics.loginAttempts.inc({ outcome: 'success' });
        return result;
      },
      (err: unknown) => {
        rt.metrics.loginAttempts.inc({ outcome: 'failure' });
        throw err;
      },
    );

  return implementService(rt, AuthServiceService, {
    register: async (req, ctx) => {
      const user = await registerUser(rt.deps, ctx.em, ctx, req);
      return { user: toUserMessage(user) };
    },

    login: async (req, ctx) => {
      const result = await countLoginAttempt(loginWithPassword(rt.deps, ctx.em, ctx, req));
      return { user: toUserMessage(result.user), tokens: toTokenPair(result.tokens) };
    },

    refreshToken: async (req, ctx) => {
      const tokens = await rotateRefreshToken(rt.deps, ctx.em, ctx, req.refreshToken);
      return { tokens: toTokenPair(tokens) };
    },

    logout: async (req, ctx) => {
      await logout(rt.deps, ctx.em, ctx, req.refreshToken);
      return {};
    },

    getJwks: async () => ({ keys: rt.deps.signingKeys.jwks() }),

    introspectToken: async (req, ctx) => toIntrospection(await introspectAccessToken(rt.deps, ctx.em, req.token)),

    listSessions: async (req, ctx) => {
      const page = await listOwnSessions(rt.deps, ctx.em, ctx, req);
      return { sessions: page.sessions.map(toSessionMessage), nextPageToken: page.nextPageToken };
    },

    revokeSession: async (req, ctx) => {
      await revokeOwnSession(rt.deps, ctx.em, ctx, req.sessionId);
      return {};
    },

    revokeAllSessions: async (req, ctx) => {
      const sessionsRevoked = await revokeAllOwnSessions(rt.deps, ctx.em, ctx, { keepCurrent: req.keepCurrent });
      return { sessionsRevoked };
    },

    requestEmailVerification: async (_req, ctx) => {
      await requestEmailVerification(rt.deps, ctx.em, ctx);
      return {};
    },

    verifyEmail: async (req, ctx) => ({ user: toUserMessage(await verifyEmail(rt.deps, ctx.em, ctx, req.token)) }),

    requestEmailChange: async (req, ctx) => {
      await requestEmailChange(rt.deps, ctx.em, ctx, req);
      return {};
    },

    requestPasswordReset: async (req, ctx) => {
      await requestPasswordReset(rt.deps, ctx.em, ctx, req.email);
      return {};
    },

    resetPassword: async (req, ctx) => resetPassword(rt.deps, ctx.em, ctx, req),

    changePassword: async (req, ctx) => changePassword(rt.deps, ctx.em, ctx, req),

    rotateSigningKey: async (req, ctx) => {
      const result = await rt.deps.signingKeys.rotate(ctx.em, ctx, { immediate: req.immediate });
      return { ...result, retiredKid: result.retiredKid ?? '', promotableAt: result.promotableAt ?? undefined };
    },

    loginWithProvider: async (req, ctx) => {
      const result = await countLoginAttempt(loginWithProvider(rt.deps, ctx.em, ctx, req));
      return { user: toUserMessage(result.user), tokens: toTokenPair(result.tokens), created: result.created };
    },
  });
}
