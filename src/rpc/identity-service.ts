import { createServiceAccount, deleteServiceAccount, listServiceAccounts } from '../domain/identity/service-accounts.js';
import { linkSocialLogin, listSocialLogins, unlinkSocialLogin } from '../domain/auth/social-logins.js';
import { deleteUser, reactivateUser, suspendUser, undeleteUser } from '../domain/identity/user-status.js';
import { revokeUserSessions } from '../domain/identity/user-sessions.js';
import { resetUserMfa } from '../domain/identity/mfa-reset.js';
import { getUser, listUsers, updateUser } from '../domain/identity/users.js';
import { IdentityServiceService } from '../gen/tessera/v1/identity_service.js';
import { fromRoleMessage, toServiceAccountMessage } from './convert.js';
import { socialLoginMessages, userMessage, userMessages } from './user-messages.js';
import type { RpcRuntime } from './call-context.js';
import { implementService } from './implement-service.js';

/** tessera.v1.IdentityService: decode -> one domain call -> encode. */
export function identityService(rt: RpcRuntime) {
  return implementService(rt, IdentityServiceService, {
    getUser: async (req, ctx) => ({ user: await userMessage(ctx.op, await getUser(ctx.op, req.userId)) }),

    listUsers: async (req, ctx) => {
      const page = await listUsers(ctx.op, req);
      return { users: await userMessages(ctx.op, page.users), nextPageToken: page.nextPageToken, totalSize: page.totalSize };
    },

    updateUser: async (req, ctx) => {
      const u = req.user;
      const update = {
        userId: u?.id ?? '',
        role: fromRoleMessage(u?.role ?? 0),
        emailVerified: u?.emailVerified ?? false,
        appMetadata: u?.appMetadata ?? {},
      };
      return { user: await userMessage(ctx.op, await updateUser(ctx.op, update, req.updateMask ?? [])) };
    },

    suspendUser: async (req, ctx) => ({ user: await userMessage(ctx.op, await suspendUser(ctx.op, req)) }),
    reactivateUser: async (req, ctx) => ({ user: await userMessage(ctx.op, await reactivateUser(ctx.op, req.userId)) }),
    deleteUser: async (req, ctx) => ({ user: await userMessage(ctx.op, await deleteUser(ctx.op, req.userId)) }),
    undeleteUser: async (req, ctx) => ({ user: await userMessage(ctx.op, await undeleteUser(ctx.op, req.userId)) }),

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
      socialLogins: await socialLoginMessages(ctx.op, await listSocialLogins(ctx.op, req.userId)),
    }),

    linkSocialLogin: async (req, ctx) => ({
      socialLogin: (await socialLoginMessages(ctx.op, [await linkSocialLogin(ctx.op, req)]))[0],
    }),

    unlinkSocialLogin: async (req, ctx) => {
      await unlinkSocialLogin(ctx.op, req.provider);
      return {};
    },
  });
}
