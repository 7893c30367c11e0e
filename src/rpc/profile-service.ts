import { getProfile, updateOwnProfile } from '../domain/profile/profiles.js';
import { ProfileServiceService } from '../gen/tessera/v1/profile_service.js';
import { toProfileMessage } from './convert.js';
import type { RpcRuntime } from './call-context.js';
import { implementService } from './implement-service.js';

/** tessera.v1.ProfileService: decode -> one domain call -> encode. */
export function profileService(rt: RpcRuntime) {
  return implementService(rt, ProfileServiceService, {
    getProfile: async (req, ctx) => {
      const profile = await getProfile(ctx.op, req.userId);
      return { profile: toProfileMessage(profile) };
    },

    updateProfile: async (req, ctx) => {
      const p = req.profile;
      const patch = {
        fullName: p?.fullName ?? '',
        avatarUrl: p?.avatarUrl ?? '',
        bio: p?.bio ?? '',
        location: p?.location ?? '',
        phoneNumber: p?.phoneNumber ?? '',
        preferences: p?.preferences ?? {},
      };
      const profile = await updateOwnProfile(ctx.op, patch, req.updateMask ?? [], p?.etag ?? '');
      return { profile: toProfileMessage(profile) };
    },
  });
}
