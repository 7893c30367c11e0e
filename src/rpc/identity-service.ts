import { createServiceAccount, deleteServiceAccount, listServiceAccounts } from '../domain/service-accounts.js';
import { linkSocialLogin, listSocialLogins, unlinkSocialLogin } from '../domain/social-logins.js';
import { deleteUser, reactivateUser, suspendUser, undeleteUser } from '../domain/user-status.js';
import { getUser, listUsers, updateUser } from '../domain/users.js';
import { IdentityServiceService } from '../gen/tessera/v1/identity_service.js';
import { fromRoleMessage, toServiceAccountMessage, toSocialLoginMessage, toUserMessage } from './convert.js';
import { implementService, type RpcRuntime } from './handler.js';

/** tessera.v1.IdentityService: decode -> one domain call -> encode. */
export function identityService(rt: RpcRuntime) {
  const { deps } = rt;
  return implementService(rt, IdentityServiceService, {
    getUser: async (req, ctx) => ({ user: toUserMessage(await getUser(ctx.em, ctx, req.userId)) }),

    listUsers: async (req, ctx) => {
      const page = await listUsers(ctx.em, req);
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
      return { user: toUserMessage(await updateUser(deps, ctx.em, ctx, update, req.updateMask ?? [])) };
    },

    suspendUser: async (req, ctx) => ({ user: toUserMessage(await suspendUser(deps, ctx.em, ctx, req)) }),
    reactivateUser: async (req, ctx) => ({ user: toUserMessage(await reactivateUser(deps, ctx.em, ctx, req.userId)) }),
    deleteUser: async (req, ctx) => ({ user: toUserMessage(await deleteUser(deps, ctx.em, ctx, req.userId)) }),
    undeleteUser: async (req, ctx) => ({ user: toUserMessage(await undeleteUser(deps, ctx.em, ctx, req.userId)) }),

    createServiceAccount: async (req, ctx) => {
      const created = await createServiceAccount(deps, ctx.em, ctx, {
        name: req.name,
        role: fromRoleMessage(req.role),
        certificateIdentity: req.certificateIdentity,
      });
      return { serviceAccount: toServiceAccountMessage(created.serviceAccount), apiKey: created.apiKey };
    },

    listServiceAccounts: async (req, ctx) => {
      const page = await listServiceAccounts(ctx.em, req);
      return { serviceAccounts: page.serviceAccounts.map(toServiceAccountMessage), nextPageToken: page.nextPageToken };
    },

    deleteServiceAccount: async (req, ctx) => {
      await deleteServiceAccount(deps, ctx.em, ctx, req.serviceAccountId);
      return {};
    },

    listSocialLogins: async (req, ctx) => ({
      socialLogins: (await listSocialLogins(ctx.em, ctx, req.userId)).map(toSocialLoginMessage),
    }),

    linkSocialLogin: async (req, ctx) => ({
      socialLogin: toSocialLoginMessage(await linkSocialLogin(deps, ctx.em, ctx, req)),
    }),

    unlinkSocialLogin: async (req, ctx) => {
      await unlinkSocialLogin(deps, ctx.em, ctx, req.provider);
      return {};
    },
  });
}
