import { registerUser } from '../domain/accounts.js';
import { loginWithPassword, logout, rotateRefreshToken } from '../domain/sessions.js';
import { loginWithProvider } from '../domain/social-logins.js';
import { AuthServiceService } from '../gen/tessera/v1/auth_service.js';
import { toTokenPair, toUserMessage } from './convert.js';
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

    loginWithProvider: async (req, ctx) => {
      const result = await countLoginAttempt(loginWithProvider(rt.deps, ctx.em, ctx, req));
      return { user: toUserMessage(result.user), tokens: toTokenPair(result.tokens), created: result.created };
    },
  });
}
