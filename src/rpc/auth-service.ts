import { registerUser } from '../domain/auth/registration.js';
import { introspectAccessToken } from '../domain/auth/authentication.js';
import { requestEmailChange, requestEmailVerification, verifyEmail } from '../domain/auth/email-verification.js';
import { changePassword, requestPasswordReset, resetPassword } from '../domain/auth/password-changes.js';
import { listOwnSessions, revokeAllOwnSessions, revokeOwnSession } from '../domain/auth/session-management.js';
import { logout } from '../domain/auth/logout.js';
import { loginWithPassword } from '../domain/auth/password-login.js';
import { rotateRefreshToken } from '../domain/auth/refresh-rotation.js';
import { loginWithProvider } from '../domain/auth/provider-login.js';
import { reauthenticate } from '../domain/auth/reauthentication.js';
import { AuthServiceService } from '../gen/tessera/v1/auth_service.js';
import { toIntrospection, toSessionMessage, toTokenPair, toUserMessage } from './convert.js';
import { userMessage } from './user-messages.js';
import { normalizeEmail } from '../domain/kernel/validation.js';
import { completeMfaLogin } from '../domain/auth/mfa-login.js';
import { confirmTotp, disableTotp, enrollTotp, regenerateRecoveryCodes } from '../domain/auth/totp-enrolment.js';
import { enrollTotpForChallenge } from '../domain/auth/required-enrolment.js';
import { toEnrolmentMessage, toFirstFactorOutcome } from './mfa-convert.js';
import type { RpcRuntime } from './call-context.js';
import { implementService } from './implement-service.js';

/** tessera.v1.AuthService: decode -> one domain call -> encode. */
export function authService(rt: RpcRuntime) {
  /** Counts a sign-in's outcome in the login_attempts metric. */
  const countLoginAttempt = <T extends object>(login: Promise<T>): Promise<T> =>
    login.then(
      (result) => {
        // A right password with a second factor still to come is not a sign-in yet.
        rt.metrics.loginAttempts.inc({ outcome: 'mfaChallenge' in result && result.mfaChallenge ? 'mfa_required' : 'success' });
        return result;
      },
      (err: unknown) => {
        rt.metrics.loginAttempts.inc({ outcome: 'failure' });
        throw err;
      },
    );

  return implementService(rt, AuthServiceService, {
    register: async (req, ctx) => {
      const user = await registerUser(ctx.op, req);
      // The stored address is the normalized one given: no need to open it.
      return { user: toUserMessage(user, normalizeEmail(req.email)) };
    },

    login: async (req, ctx) => {
      const result = await countLoginAttempt(loginWithPassword(ctx.op, req));
      return { user: toUserMessage(result.user, normalizeEmail(req.email)), ...toFirstFactorOutcome(result) };
    },

    refreshToken: async (req, ctx) => {
      const tokens = await rotateRefreshToken(ctx.op, req.refreshToken);
      return { tokens: toTokenPair(tokens) };
    },

    logout: async (req, ctx) => {
      await logout(ctx.op, req.refreshToken);
      return {};
    },

    getJwks: async () => ({ keys: rt.deps.signingKeys.jwks() }),

    introspectToken: async (req, ctx) => toIntrospection(await introspectAccessToken(ctx.op, req.token)),

    listSessions: async (req, ctx) => {
      const page = await listOwnSessions(ctx.op, req);
      return { sessions: page.sessions.map(toSessionMessage), nextPageToken: page.nextPageToken };
    },

    revokeSession: async (req, ctx) => {
      await revokeOwnSession(ctx.op, req.sessionId);
      return {};
    },

    revokeAllSessions: async (req, ctx) => {
      const sessionsRevoked = await revokeAllOwnSessions(ctx.op, { keepCurrent: req.keepCurrent });
      return { sessionsRevoked };
    },

    requestEmailVerification: async (_req, ctx) => {
      await requestEmailVerification(ctx.op);
      return {};
    },

    verifyEmail: async (req, ctx) => ({ user: await userMessage(ctx.op, await verifyEmail(ctx.op, req.token)) }),

    requestEmailChange: async (req, ctx) => {
      await requestEmailChange(ctx.op, req);
      return {};
    },

    requestPasswordReset: async (req, ctx) => {
      await requestPasswordReset(ctx.op, req.email);
      return {};
    },

    resetPassword: async (req, ctx) => resetPassword(ctx.op, req),

    changePassword: async (req, ctx) => changePassword(ctx.op, req),

    rotateSigningKey: async (req, ctx) => {
      const result = await rt.deps.signingKeys.rotate(ctx.op, { immediate: req.immediate });
      return { ...result, retiredKid: result.retiredKid ?? '', promotableAt: result.promotableAt ?? undefined };
    },

    reauthenticate: async (req, ctx) => {
      const result = await reauthenticate(ctx.op, req);
      return {
        accessToken: result.accessToken,
        accessTokenExpiresAt: result.accessTokenExpiresAt,
        authTime: result.assurance.authenticatedAt,
        amr: result.assurance.amr,
        acr: result.assurance.acr,
      };
    },

    loginWithProvider: async (req, ctx) => {
      const result = await countLoginAttempt(loginWithProvider(ctx.op, req));
      return { user: await userMessage(ctx.op, result.user), ...toFirstFactorOutcome(result), created: result.created };
    },

    enrollTotp: async (_req, ctx) => toEnrolmentMessage(await enrollTotp(ctx.op)),

    enrollTotpForChallenge: async (req, ctx) => toEnrolmentMessage(await enrollTotpForChallenge(ctx.op, req)),

    confirmTotp: async (req, ctx) => confirmTotp(ctx.op, req),

    disableTotp: async (req, ctx) => {
      await disableTotp(ctx.op, req);
      return {};
    },

    regenerateRecoveryCodes: async (req, ctx) => regenerateRecoveryCodes(ctx.op, req),

    completeMfaLogin: async (req, ctx) => {
      const result = await countLoginAttempt(completeMfaLogin(ctx.op, req));
      return {
        user: await userMessage(ctx.op, result.user),
        tokens: toTokenPair(result.tokens),
        recoveryCodes: result.recoveryCodes,
      };
    },
  });
}
