import { getProfile, updateOwnProfile } from '../domain/profile/profiles.js';
import { ProfileServiceService } from '../gen/tessera/v1/profile_service.js';
import { toProfileMessage } from './convert.js';
import { implementService, type RpcRuntime } from './handler.js';

/** tessera.v1.ProfileService: decode -> one domain call -> encode. */
export function profileService(rt: RpcRuntime) {
  return implementService(rt, ProfileServiceService, {
    getProfile: async (req, ctx) => {
      const profile = await getProfile(rt.deps, ctx.em, ctx, req.userId);
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
      const profile = await updateOwnProfile(rt.deps, ctx.em, ctx, patch, req.updateMask ?? []);
      return { profile: toProfileMessage(profile) };
    },
  });
}
