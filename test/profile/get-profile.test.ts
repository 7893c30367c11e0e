import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { adminToken, signedInUser } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, call } from '../helpers/server.js';

describe('ProfileService.GetProfile', () => {
  it("returns the caller's profile when user_id is empty", async () => {
    const before = Date.now();
    const alice = await signedInUser({ fullName: 'Alice Liddell' });

    const { profile } = await call(harness().server.profile, 'getProfile', { userId: '' }, bearer(alice.accessToken));

    expect(profile!.userId).to.equal(alice.user!.id);
    expect(profile!.fullName).to.equal('Alice Liddell');
    expect(profile!.bio).to.equal('');
    expect(profile!.phoneNumber).to.equal('');
    expect(profile!.preferences).to.deep.equal({});
    expect(profile!.createdAt).to.be.instanceOf(Date);
    expect(profile!.updatedAt).to.be.instanceOf(Date);
    expect(profile!.createdAt!.getTime()).to.be.within(before - 5000, Date.now() + 5000);
    expect(profile!.updatedAt!.getTime()).to.be.at.least(profile!.createdAt!.getTime());
  });

  it("returns the caller's profile when user_id is the caller's own id", async () => {
    const bob = await signedInUser({ fullName: 'Bob Own' });

    const { profile } = await call(harness().server.profile, 'getProfile', { userId: bob.user!.id }, bearer(bob.accessToken));

    expect(profile!.userId).to.equal(bob.user!.id);
    expect(profile!.fullName).to.equal('Bob Own');
  });

  it("accepts the caller's own id in upper case", async () => {
    const carol = await signedInUser();

    const { profile } = await call(
      harness().server.profile,
      'getProfile',
      { userId: carol.user!.id.toUpperCase() },
      bearer(carol.accessToken),
    );

    expect(profile!.userId).to.equal(carol.user!.id);
  });

  it("refuses a normal user reading another user's profile with PERMISSION_DENIED", async () => {
    const reader = await signedInUser();
    const other = await signedInUser({ fullName: 'Private Person' });

    const details = await expectRpcError(
      call(harness().server.profile, 'getProfile', { userId: other.user!.id }, bearer(reader.accessToken)),
      status.PERMISSION_DENIED,
      { reason: 'PERMISSION_DENIED' },
    );
    expect(details.message).to.not.include('Private Person');
  });

  it('answers PERMISSION_DENIED, not NOT_FOUND, when a normal user asks for an unknown id', async () => {
    const reader = await signedInUser();

    await expectRpcError(
      call(harness().server.profile, 'getProfile', { userId: randomUUID() }, bearer(reader.accessToken)),
      status.PERMISSION_DENIED,
      { reason: 'PERMISSION_DENIED' },
    );
  });

  it("lets the bootstrap admin read another user's profile", async () => {
    const target = await signedInUser({ fullName: 'Read By Admin' });

    const { profile } = await call(
      harness().server.profile,
      'getProfile',
      { userId: target.user!.id },
      bearer(await adminToken()),
    );

    expect(profile!.userId).to.equal(target.user!.id);
    expect(profile!.fullName).to.equal('Read By Admin');
  });

  it('answers NOT_FOUND when the admin asks for an unknown user id', async () => {
    await expectRpcError(
      call(harness().server.profile, 'getProfile', { userId: randomUUID() }, bearer(await adminToken())),
      status.NOT_FOUND,
      { reason: 'USER_NOT_FOUND' },
    );
  });

  for (const malformed of ['not-a-uuid', '12345', `${randomUUID()}x`, "' or 1=1 --"]) {
    it(`refuses the malformed user_id ${JSON.stringify(malformed)} with INVALID_ARGUMENT on user_id`, async () => {
      const user = await signedInUser();

      await expectRpcError(
        call(harness().server.profile, 'getProfile', { userId: malformed }, bearer(user.accessToken)),
        status.INVALID_ARGUMENT,
        { fields: ['user_id'] },
      );
    });
  }

  it('refuses a malformed user_id with INVALID_ARGUMENT for the admin too', async () => {
    await expectRpcError(
      call(harness().server.profile, 'getProfile', { userId: 'nope' }, bearer(await adminToken())),
      status.INVALID_ARGUMENT,
      { fields: ['user_id'] },
    );
  });
});
