import { status, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { Profile } from '../../src/gen/tessera/v1/profile.js';
import { signedInUser, sql } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { decodeDetails, expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, call } from '../helpers/server.js';

function updateProfile(token: string, profile: Partial<Profile>, updateMask: string[]) {
  return call(harness().server.profile, 'updateProfile', { profile: Profile.fromPartial(profile), updateMask }, bearer(token));
}

async function getOwnProfile(token: string): Promise<Profile> {
  return (await call(harness().server.profile, 'getProfile', { userId: '' }, bearer(token))).profile!;
}

async function profileUpdatedCount(userId: string): Promise<number> {
  const [row] = await sql<{ n: string }>(
    `select count(*) as n from audit_events where type = 'profile.updated' and subject_user_id = $1`,
    [userId],
  );
  return Number(row.n);
}

describe('ProfileService etags (optimistic concurrency)', () => {
  it('GetProfile and UpdateProfile return an etag that changes with every change, and only then', async () => {
    const user = await signedInUser();
    const read = await getOwnProfile(user.accessToken);
    expect(read.etag).to.not.equal('');

    const first = await updateProfile(user.accessToken, { bio: 'one' }, ['bio']);
    expect(first.profile!.etag).to.not.equal(read.etag);
    expect((await getOwnProfile(user.accessToken)).etag).to.equal(first.profile!.etag);

    const same = await updateProfile(user.accessToken, { bio: 'one' }, ['bio']);
    expect(same.profile!.etag).to.equal(first.profile!.etag);
  });

  it('applies an update made with the current etag', async () => {
    const user = await signedInUser();
    const { etag } = await getOwnProfile(user.accessToken);

    const { profile } = await updateProfile(user.accessToken, { location: 'Lisbon', etag }, ['location']);

    expect(profile!.location).to.equal('Lisbon');
  });

  it('refuses an update made from a stale read with ABORTED and changes nothing', async () => {
    const user = await signedInUser();
    const stale = (await getOwnProfile(user.accessToken)).etag;
    await updateProfile(user.accessToken, { bio: 'written by another tab' }, ['bio']);
    const eventsBefore = await profileUpdatedCount(user.user!.id);

    const details = await expectRpcError(
      updateProfile(user.accessToken, { bio: 'silent overwrite', etag: stale }, ['bio']),
      status.ABORTED,
      { reason: 'ETAG_MISMATCH' },
    );

    expect(details.message).to.not.include('silent overwrite');
    expect((await getOwnProfile(user.accessToken)).bio).to.equal('written by another tab');
    expect(await profileUpdatedCount(user.user!.id)).to.equal(eventsBefore);
  });

  it('keeps the unconditional behaviour with an empty etag (last write wins)', async () => {
    const user = await signedInUser();
    await updateProfile(user.accessToken, { bio: 'first' }, ['bio']);

    const { profile } = await updateProfile(user.accessToken, { bio: 'second', etag: '' }, ['bio']);

    expect(profile!.bio).to.equal('second');
  });

  for (const etag of ['garbage', 'v0', 'v-1', 'v1 ', 'V1', `v${'9'.repeat(40)}`, '"v1"']) {
    it(`refuses a malformed etag ${JSON.stringify(etag.slice(0, 16))} with INVALID_ARGUMENT naming profile.etag`, async () => {
      const user = await signedInUser();
      await expectRpcError(updateProfile(user.accessToken, { bio: 'x', etag }, ['bio']), status.INVALID_ARGUMENT, {
        fields: ['profile.etag'],
      });
    });
  }

  it('does not let one user pass their etag to write to another profile', async () => {
    const a = await signedInUser();
    const b = await signedInUser();
    await updateProfile(b.accessToken, { bio: 'b changed' }, ['bio']);
    const etagOfB = (await getOwnProfile(b.accessToken)).etag;

    // The etag only conditions the caller's own update; it never selects a profile.
    await expectRpcError(updateProfile(a.accessToken, { bio: 'x', etag: etagOfB }, ['bio']), status.ABORTED, {
      reason: 'ETAG_MISMATCH',
    });
    expect((await getOwnProfile(b.accessToken)).bio).to.equal('b changed');
  });

  it('of concurrent updates made with the same etag, exactly one applies; the others are ABORTED', async () => {
    const user = await signedInUser();
    const { etag } = await getOwnProfile(user.accessToken);
    const writers = 6;

    const outcomes = await Promise.allSettled(
      Array.from({ length: writers }, (_, i) => updateProfile(user.accessToken, { bio: `writer ${i}`, etag }, ['bio'])),
    );

    const applied = outcomes.filter((o) => o.status === 'fulfilled');
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(applied).to.have.length(1);
    for (const r of refused) {
      const error = r.reason as ServiceError;
      expect(status[error.code]).to.equal('ABORTED');
      expect(decodeDetails(error).errorInfo?.reason).to.equal('ETAG_MISMATCH');
    }
    const winner = (applied[0] as PromiseFulfilledResult<{ profile?: Profile }>).value.profile!;
    expect((await getOwnProfile(user.accessToken)).bio).to.equal(winner.bio);
    expect(await profileUpdatedCount(user.user!.id)).to.equal(1);
  });

  it('without etags, concurrent updates all apply one after another (no lost version)', async () => {
    const user = await signedInUser();
    const version = async () =>
      (await sql<{ version: number }>('select version from user_profiles where user_id = $1', [user.user!.id]))[0].version;
    const before = await version();

    await Promise.all(Array.from({ length: 5 }, (_, i) => updateProfile(user.accessToken, { bio: `w${i}` }, ['bio'])));

    expect(await version()).to.equal(before + 5);
    expect(await profileUpdatedCount(user.user!.id)).to.equal(5);
  });
});
