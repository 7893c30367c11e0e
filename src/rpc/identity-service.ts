import { createServiceAccount, deleteServiceAccount, listServiceAccounts } from '../domain/identity/service-accounts.js';
import { linkSocialLogin, listSocialLogins, unlinkSocialLogin } from '../domain/auth/social-logins.js';
import { deleteUser, reactivateUser, suspendUser, undeleteUser } from '../domain/identity/user-status.js';
import { revokeUserSessions } from '../domain/identity/user-sessions.js';
import { resetUserMfa } from '../domain/identity/mfa-reset.js';
import { getUser, listUsers, updateUser } from '../domain/identity/users.js';
import { IdentityServiceService } from '../gen/tessera/v1/identity_service.js';
import { fromRoleMessage, toServiceAccountMessage, toSocialLoginMessage, toUserMessage } from './convert.js';
import type { RpcRuntime } from './call-context.js';
import { implementService } from './implement-service.js';

/** tessera.v1.IdentityService: decode -> one domain call -> encode. */
export function identityService(rt: RpcRuntime) {
  return implementService(rt, IdentityServiceService, {
    getUser: async (req, ctx) => ({ user: toUserMessage(await getUser(ctx.op, req.userId)) }),

    listUsers: async (req, ctx) => {
      const page = await listUsers(ctx.op, req);
      return { users: page.users.map(toUserMessage), nextPageToken: page.nextPageToken, totalSize: page.totalSize };
    },

    updateUser: async (req, ctx) => {
      const u = req.user;
      const update = {
        userId: u?.id ?? '',
        role: fromRoleMessage(u?.role ?? 0),
        emailVerified: u?.emailVerified ?? false,
        appMetadata: u?.appMetadata ?? {},
      };
      return { user: toUserMessage(await updateUser(ctx.op, update, req.updateMask ?? [])) };
    },

    suspendUser: async (req, ctx) => ({ user: toUserMessage(await suspendUser(ctx.op, req)) }),
    reactivateUser: async (req, ctx) => ({ user: toUserMessage(await reactivateUser(ctx.op, req.userId)) }),
    deleteUser: async (req, ctx) => ({ user: toUserMessage(await deleteUser(ctx.op, req.userId)) }),
    undeleteUser: async (req, ctx) => ({ user: toUserMessage(await undeleteUser(ctx.op, req.userId)) }),

    revokeUserSessions: async (req, ctx) => ({ sessionsRevoked: await revokeUserSessions(ctx.op, req.userId) }),

    resetUserMfa: async (req, ctx) => resetUserMfa(ctx.op, req.userId),

    createServiceAccount: async (req, ctx) => {
      const created = await createServiceAccount(ctx.op, {
        name: req.name,
        role: fromRoleMessage(req.role),
        certificateIdentity: req.certificateIdentity,
      });
      return { serviceAccount: toServiceAccountMessage(created.serviceAccount), apiKey: created.apiKey };
    },

    listServiceAccounts: async (req, ctx) => {
      const page = await listServiceAccounts(ctx.op, req);
      return { serviceAccounts: page.serviceAccounts.map(toServiceAccountMessage), nextPageToken: page.nextPageToken };
    },

    deleteServiceAccount: async (req, ctx) => {
      await deleteServiceAccount(ctx.op, req.serviceAccountId);
      return {};
    },

    listSocialLogins: async (req, ctx) => ({
      socialLogins: (await listSocialLogins(ctx.op, req.userId)).map(toSocialLoginMessage),
    }),

    linkSocialLogin: async (req, ctx) => ({
      socialLogin: toSocialLoginMessage(await linkSocialLogin(ctx.op, req)),
    }),

    unlinkSocialLogin: async (req, ctx) => {
      await unlinkSocialLogin(ctx.op, req.provider);
      return {};
    },
  });
}
