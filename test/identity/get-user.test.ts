import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { Role, UserStatus } from '../../src/gen/tessera/v1/user.js';
import { adminToken, serviceAccountKey, signedInUser, signedInWithRole, sql } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, call } from '../helpers/server.js';

function getUser(token: string, userId: string) {
  return call(harness().server.identity, 'getUser', { userId }, bearer(token));
}

describe('IdentityService.GetUser', () => {
  it("returns the caller's own account for an empty user_id, app_metadata included", async () => {
    const alice = await signedInUser();
    await sql(`update users set app_metadata = $1 where id = $2`, [{ plan: 'pro', tenant: 't-1' }, alice.user!.id]);

    const { user } = await getUser(alice.accessToken, '');

    expect(user!.id).to.equal(alice.user!.id);
    expect(user!.email).to.equal(alice.email);
    expect(user!.role).to.equal(Role.ROLE_USER);
    expect(user!.status).to.equal(UserStatus.USER_STATUS_ACTIVE);
    expect(user!.appMetadata).to.deep.equal({ plan: 'pro', tenant: 't-1' });
    expect(user!.deletedAt).to.equal(undefined);
  });

  it("returns the caller's own account by id", async () => {
    const bob = await signedInUser();
    expect((await getUser(bob.accessToken, bob.user!.id)).user!.id).to.equal(bob.user!.id);
  });

  it("refuses a user reading someone else's account, existing or not, with PERMISSION_DENIED", async () => {
    const reader = await signedInUser();
    const other = await signedInUser();
    await expectRpcError(getUser(reader.accessToken, other.user!.id), status.PERMISSION_DENIED, { reason: 'PERMISSION_DENIED' });
    await expectRpcError(getUser(reader.accessToken, randomUUID()), status.PERMISSION_DENIED, { reason: 'PERMISSION_DENIED' });
  });

  it('lets the admin, an auditor and a service account read any account', async () => {
    const target = await signedInUser();
    const auditor = await signedInWithRole('auditor');
    const { apiKey } = await serviceAccountKey();
    for (const token of [await adminToken(), auditor.accessToken, apiKey]) {
      expect((await getUser(token, target.user!.id)).user!.id).to.equal(target.user!.id);
    }
  });

  it('returns a soft-deleted account with its status and deleted_at', async () => {
    const target = await signedInUser();
    await sql(`update users set status = 'deleted', deleted_at = now() where id = $1`, [target.user!.id]);
    const { user } = await getUser(await adminToken(), target.user!.id);
    expect(user!.status).to.equal(UserStatus.USER_STATUS_DELETED);
    expect(user!.deletedAt).to.be.instanceOf(Date);
  });

  it('answers NOT_FOUND (USER_NOT_FOUND) to the admin for an unknown id', async () => {
    await expectRpcError(getUser(await adminToken(), randomUUID()), status.NOT_FOUND, { reason: 'USER_NOT_FOUND' });
  });

  it('refuses a malformed user_id with INVALID_ARGUMENT on user_id', async () => {
    await expectRpcError(getUser(await adminToken(), 'not-a-uuid'), status.INVALID_ARGUMENT, { fields: ['user_id'] });
  });

  it('needs a user_id from a service account, which has no account of its own', async () => {
    const { apiKey } = await serviceAccountKey();
    const details = await expectRpcError(getUser(apiKey, ''), status.INVALID_ARGUMENT, { fields: ['user_id'] });
    expect(details.badRequest!.fieldViolations[0].description).to.contain('API key');
  });
});
