import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { UserStatus } from '../../src/gen/tessera/v1/user.js';
import { adminToken, auditEventsOfRequest, signedInUser, sql, traced } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, BOOTSTRAP_ADMIN, call } from '../helpers/server.js';

const identity = () => harness().server.identity;
const login = (email: string, password: string) => call(harness().server.auth, 'login', { email, password });

describe('IdentityService.DeleteUser and UndeleteUser', () => {
  let admin: string;
  before(async () => {
    admin = await adminToken();
  });

  it('soft-deletes: status deleted, deleted_at set, sessions revoked, tokens and login refused, data kept', async () => {
    const target = await signedInUser({ fullName: 'Kept Profile' });
    const { metadata, requestId } = traced(admin);

    const { user } = await call(identity(), 'deleteUser', { userId: target.user!.id }, metadata);

    expect(user!.status).to.equal(UserStatus.USER_STATUS_DELETED);
    expect(user!.deletedAt!.getTime()).to.be.within(Date.now() - 10_000, Date.now() + 1000);
    const [row] = await sql<{ status: string; deleted_at: Date }>('select status, deleted_at from users where id = $1', [
      target.user!.id,
    ]);
    expect(row.status).to.equal('deleted');
    expect(row.deleted_at).to.be.instanceOf(Date);
    const [session] = await sql<{ revoked_at: Date | null; revoke_reason: string }>(
      'select revoked_at, revoke_reason from sessions where user_id = $1',
      [target.user!.id],
    );
    expect(session.revoke_reason).to.equal('user_deleted');
    await expectRpcError(
      call(harness().server.profile, 'getProfile', { userId: '' }, bearer(target.accessToken)),
      status.UNAUTHENTICATED,
      {
        reason: 'ACCOUNT_DELETED',
      },
    );
    await expectRpcError(login(target.email, target.password), status.PERMISSION_DENIED, { reason: 'ACCOUNT_DELETED' });
    await expectRpcError(login(target.email, 'not the password'), status.UNAUTHENTICATED, { reason: 'INVALID_CREDENTIALS' });
    const profile = await call(harness().server.profile, 'getProfile', { userId: target.user!.id }, bearer(admin));
    expect(profile.profile!.fullName).to.equal('Kept Profile');
    const events = await auditEventsOfRequest(requestId);
    expect(events.map((e) => e.type)).to.deep.equal(['user.deleted', 'sessions.revoked_all']);
    expect(events[1].metadata).to.include({ reason: 'user_deleted', sessions_revoked: 1 });
    expect(events[0].metadata).to.deep.equal({ previous_status: 'active' });
  });

  it('undeletes within the retention window: the user signs in again', async () => {
    const target = await signedInUser();
    await call(identity(), 'deleteUser', { userId: target.user!.id }, bearer(admin));
    const { metadata, requestId } = traced(admin);

    const { user } = await call(identity(), 'undeleteUser', { userId: target.user!.id }, metadata);

    expect(user!.status).to.equal(UserStatus.USER_STATUS_ACTIVE);
    expect(user!.deletedAt).to.equal(undefined);
    const res = await login(target.email, target.password);
    expect(res.user!.id).to.equal(target.user!.id);
    const [event] = await auditEventsOfRequest(requestId);
    expect(event).to.include({ type: 'user.undeleted', subject_user_id: target.user!.id });
    expect(event.metadata).to.deep.equal({ status: 'active' });
  });

  it('restores a suspension that was in force when the account was deleted', async () => {
    const target = await signedInUser();
    await call(identity(), 'suspendUser', { userId: target.user!.id, reason: '' }, bearer(admin));
    await call(identity(), 'deleteUser', { userId: target.user!.id }, bearer(admin));

    const { user } = await call(identity(), 'undeleteUser', { userId: target.user!.id }, bearer(admin));

    expect(user!.status).to.equal(UserStatus.USER_STATUS_SUSPENDED);
    await expectRpcError(login(target.email, target.password), status.PERMISSION_DENIED, { reason: 'ACCOUNT_SUSPENDED' });
  });

  it('undeletes on day 29 of 30 and refuses after the window: FAILED_PRECONDITION, RETENTION_EXPIRED', async () => {
    const recent = await signedInUser();
    const old = await signedInUser();
    for (const u of [recent, old]) await call(identity(), 'deleteUser', { userId: u.user!.id }, bearer(admin));
    await sql(`update users set deleted_at = now() - interval '29 days' where id = $1`, [recent.user!.id]);
    await sql(`update users set deleted_at = now() - interval '30 days 1 minute' where id = $1`, [old.user!.id]);

    await call(identity(), 'undeleteUser', { userId: recent.user!.id }, bearer(admin));
    await expectRpcError(call(identity(), 'undeleteUser', { userId: old.user!.id }, bearer(admin)), status.FAILED_PRECONDITION, {
      reason: 'RETENTION_EXPIRED',
    });
    expect((await sql<{ status: string }>('select status from users where id = $1', [old.user!.id]))[0].status).to.equal(
      'deleted',
    );
  });

  it('refuses deleting twice and undeleting an account that is not deleted (FAILED_PRECONDITION)', async () => {
    const target = await signedInUser();
    await expectRpcError(
      call(identity(), 'undeleteUser', { userId: target.user!.id }, bearer(admin)),
      status.FAILED_PRECONDITION,
      {
        reason: 'USER_NOT_DELETED',
      },
    );
    await call(identity(), 'deleteUser', { userId: target.user!.id }, bearer(admin));
    await expectRpcError(call(identity(), 'deleteUser', { userId: target.user!.id }, bearer(admin)), status.FAILED_PRECONDITION, {
      reason: 'USER_ALREADY_DELETED',
    });
  });

  it('refuses deleting oneself (SELF_CHANGE_FORBIDDEN) and a user deleting anyone (PERMISSION_DENIED)', async () => {
    const res = await login(BOOTSTRAP_ADMIN.email, BOOTSTRAP_ADMIN.password);
    await expectRpcError(
      call(identity(), 'deleteUser', { userId: res.user!.id }, bearer(res.tokens!.accessToken)),
      status.PERMISSION_DENIED,
      {
        reason: 'SELF_CHANGE_FORBIDDEN',
      },
    );
    const user = await signedInUser();
    const victim = await signedInUser();
    await expectRpcError(
      call(identity(), 'deleteUser', { userId: victim.user!.id }, bearer(user.accessToken)),
      status.PERMISSION_DENIED,
      {
        reason: 'PERMISSION_DENIED',
      },
    );
    await expectRpcError(
      call(identity(), 'undeleteUser', { userId: victim.user!.id }, bearer(user.accessToken)),
      status.PERMISSION_DENIED,
    );
  });

  it('refuses bad ids: INVALID_ARGUMENT on user_id, NOT_FOUND for an unknown one', async () => {
    for (const rpc of ['deleteUser', 'undeleteUser'] as const) {
      await expectRpcError(call(identity(), rpc, { userId: '' }, bearer(admin)), status.INVALID_ARGUMENT, {
        fields: ['user_id'],
      });
      await expectRpcError(call(identity(), rpc, { userId: 'nope' }, bearer(admin)), status.INVALID_ARGUMENT, {
        fields: ['user_id'],
      });
      await expectRpcError(call(identity(), rpc, { userId: randomUUID() }, bearer(admin)), status.NOT_FOUND, {
        reason: 'USER_NOT_FOUND',
      });
    }
  });
});
