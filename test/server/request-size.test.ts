import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { UpdateProfileRequest } from '../../src/gen/tessera/v1/profile_service.js';
import { Profile } from '../../src/gen/tessera/v1/profile.js';
import { signedInUser } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, call } from '../helpers/server.js';

const DEFAULT_LIMIT = 128 * 1024;
const FOUR_BYTE_CHARACTER = '𝔸';

/**
 * The largest request the API accepts: an UpdateProfile with every text at its
 * length limit in 4-byte characters, and preferences of 16 KiB as JSON that
 * encode as large as a protobuf Struct gets (a list of zeros: 2 bytes of JSON,
 * 11 bytes of protobuf each).
 */
function largestUpdateProfile(): UpdateProfileRequest {
  const zeros: number[] = [];
  while (Buffer.byteLength(JSON.stringify({ z: [...zeros, 0] })) <= 16 * 1024) zeros.push(0);
  return {
    profile: Profile.fromPartial({
      fullName: FOUR_BYTE_CHARACTER.repeat(200),
      bio: FOUR_BYTE_CHARACTER.repeat(2000),
      location: FOUR_BYTE_CHARACTER.repeat(200),
      avatarUrl: `https://img.example/${'a'.repeat(2048 - 20)}`,
      phoneNumber: '+55 (11) 98765-4321',
      preferences: { z: zeros },
    }),
    updateMask: ['full_name', 'avatar_url', 'bio', 'location', 'phone_number', 'preferences'],
  };
}

describe('request size limit (GRPC_MAX_MESSAGE_BYTES, default 128 KiB)', () => {
  it('accepts the largest legitimate request, which needs more than 64 KiB', async () => {
    const request = largestUpdateProfile();
    const size = UpdateProfileRequest.encode(request).finish().length;
    expect(size).to.be.within(64 * 1024, DEFAULT_LIMIT);
    const { accessToken } = await signedInUser();
    const res = await call(harness().server.profile, 'updateProfile', request, bearer(accessToken));
    expect(res.profile!.fullName).to.equal(request.profile!.fullName);
  });

  it('refuses a request just over the limit with RESOURCE_EXHAUSTED', async () => {
    const idToken = 'a'.repeat(DEFAULT_LIMIT);
    await expectRpcError(call(harness().server.auth, 'loginWithProvider', { provider: 'x', idToken }), status.RESOURCE_EXHAUSTED);
  });
});
