import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { UserStatus } from '../../src/gen/tessera/v1/user.js';
import {
  adminToken,
  auditEventsOfRequest,
  serviceAccountKey,
  signedInUser,
  signedInWithRole,
  sql,
  traced,
} from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, BOOTSTRAP_ADMIN, call } from '../helpers/server.js';

const identity = () => harness().server.identity;
const getOwnProfile = (token: string) => call(harness().server.profile, 'getProfile', { userId: '' }, bearer(token));
const login = (email: string, password: string) => call(harness().server.auth, 'login', { email, password });

describe('IdentityService.SuspendUser and ReactivateUser', () => {
  let admin: string;
  before(async () => {
    admin = await adminToken();
  });

  it('blocks sign-in, kills live access and refresh tokens at once, and reactivation restores sign-in', async () => {
    const target = await signedInUser();
    const second = await login(target.email, target.password);
    expect((await getOwnProfile(target.accessToken)).profile!.userId).to.equal(target.user!.id);

    const { user } = await call(identity(), 'suspendUser', { userId: target.user!.id, reason: 'chargeback' }, bearer(admin));
    expect(user!.status).to.equal(UserStatus.USER_STATUS_SUSPENDED);

    // Live tokens of both sessions stop working on the very next call, on every RPC.
    for (const token of [target.accessToken, second.tokens!.accessToken]) {
      await expectRpcError(getOwnProfile(token), status.UNAUTHENTICATED, { reason: 'ACCOUNT_SUSPENDED' });
      await expectRpcError(call(identity(), 'getUser', { userId: '' }, bearer(token)), status.UNAUTHENTICATED, {
        reason: 'ACCOUNT_SUSPENDED',
      });
    }
    await expectRpcError(
      call(harness().server.auth, 'refreshToken', { refreshToken: target.refreshToken }),
      status.UNAUTHENTICATED,
      {
        reason: 'INVALID_REFRESH_TOKEN',
      },
    );
    // Status is told only to someone with the right password.
    await expectRpcError(login(target.email, 'not the password'), status.UNAUTHENTICATED, { reason: 'INVALID_CREDENTIALS' });
    await expectRpcError(login(target.email, target.password), status.PERMISSION_DENIED, { reason: 'ACCOUNT_SUSPENDED' });

    const reactivated = await call(identity(), 'reactivateUser', { userId: target.user!.id }, bearer(admin));
    expect(reactivated.user!.status).to.equal(UserStatus.USER_STATUS_ACTIVE);
    const fresh = await login(target.email, target.password);
    expect((await getOwnProfile(fresh.tokens!.accessToken)).profile!.userId).to.equal(target.user!.id);
    // Sessions ended by the suspension stay ended.
    await expectRpcError(getOwnProfile(target.accessToken), status.UNAUTHENTICATED, { reason: 'SESSION_REVOKED' });
  });

  it('records user.suspended with the reason and one sessions.revoked_all with a not-before time, in one request', async () => {
    const target = await signedInUser();
    const { metadata, requestId } = traced(admin);
    await call(identity(), 'suspendUser', { userId: target.user!.id, reason: '  abuse report #42 ' }, metadata);

    const events = await auditEventsOfRequest(requestId);
    expect(events.map((e) => e.type)).to.deep.equal(['user.suspended', 'sessions.revoked_all']);
    expect(events[0]).to.include({ subject_user_id: target.user!.id, actor_type: 'user' });
    expect(events[0].metadata).to.deep.equal({ reason: 'abuse report #42' });
    const sessions = await sql<{ id: string; revoke_reason: string; created_at: Date }>(
      'select id, revoke_reason, created_at from sessions where user_id = $1',
      [target.user!.id],
    );
    const { not_before: notBefore, ...rest } = events[1].metadata;
    expect(rest).to.deep.equal({ reason: 'user_suspended', sessions_revoked: 1 });
    expect(Date.parse(String(notBefore))).to.be.at.least(Date.parse(sessions[0].created_at.toISOString()));
    expect(sessions[0].revoke_reason).to.equal('user_suspended');

    const reactivation = traced(admin);
    await call(identity(), 'reactivateUser', { userId: target.user!.id }, reactivation.metadata);
    expect((await auditEventsOfRequest(reactivation.requestId)).map((e) => e.type)).to.deep.equal(['user.reactivated']);
  });

  it('is done by a service account too, recorded with it as the actor', async () => {
    const target = await signedInUser();
    const { apiKey, id } = await serviceAccountKey();
    const { metadata, requestId } = traced(apiKey);
    await call(identity(), 'suspendUser', { userId: target.user!.id, reason: '' }, metadata);
    const [event] = await auditEventsOfRequest(requestId);
    expect(event).to.include({ type: 'user.suspended', actor_type: 'service_account', actor_id: id });
  });

  it('refuses suspending oneself: PERMISSION_DENIED, SELF_CHANGE_FORBIDDEN', async () => {
    const res = await login(BOOTSTRAP_ADMIN.email, BOOTSTRAP_ADMIN.password);
    await expectRpcError(
      call(identity(), 'suspendUser', { userId: res.user!.id, reason: '' }, bearer(res.tokens!.accessToken)),
      status.PERMISSION_DENIED,
      {
        reason: 'SELF_CHANGE_FORBIDDEN',
      },
    );
  });

  it('refuses a user, an auditor, and a service account acting on an administrator', async () => {
    const target = await signedInUser();
    const auditor = await signedInWithRole('auditor');
    for (const token of [target.accessToken, auditor.accessToken]) {
      await expectRpcError(
        call(identity(), 'suspendUser', { userId: target.user!.id, reason: '' }, bearer(token)),
        status.PERMISSION_DENIED,
      );
    }
    const otherAdmin = await signedInWithRole('admin');
    const { apiKey } = await serviceAccountKey();
    await expectRpcError(
      call(identity(), 'suspendUser', { userId: otherAdmin.user!.id, reason: '' }, bearer(apiKey)),
      status.PERMISSION_DENIED,
      {
        reason: 'PERMISSION_DENIED',
      },
    );
  });

  it('refuses to suspend a suspended or deleted account, and to reactivate an active or deleted one (FAILED_PRECONDITION)', async () => {
    const target = await signedInUser();
    await expectRpcError(
      call(identity(), 'reactivateUser', { userId: target.user!.id }, bearer(admin)),
      status.FAILED_PRECONDITION,
      {
        reason: 'USER_NOT_SUSPENDED',
      },
    );
    await call(identity(), 'suspendUser', { userId: target.user!.id, reason: '' }, bearer(admin));
    await expectRpcError(
      call(identity(), 'suspendUser', { userId: target.user!.id, reason: '' }, bearer(admin)),
      status.FAILED_PRECONDITION,
      {
        reason: 'USER_NOT_ACTIVE',
      },
    );
    await call(identity(), 'deleteUser', { userId: target.user!.id }, bearer(admin));
    await expectRpcError(
      call(identity(), 'suspendUser', { userId: target.user!.id, reason: '' }, bearer(admin)),
      status.FAILED_PRECONDITION,
      {
        reason: 'USER_NOT_ACTIVE',
      },
    );
    await expectRpcError(
      call(identity(), 'reactivateUser', { userId: target.user!.id }, bearer(admin)),
      status.FAILED_PRECONDITION,
      {
        reason: 'USER_NOT_SUSPENDED',
      },
    );
  });

  describe('refuses bad requests', () => {
    for (const [name, userId, reason, fields] of [
      ['an empty user_id', '', '', ['user_id']],
      ['a malformed user_id', 'x', '', ['user_id']],
      ['a reason over 500 characters', randomUUID(), 'r'.repeat(501), ['reason']],
      ['a reason with control characters', randomUUID(), 'bad\u0000reason', ['reason']],
      ['both', '', 'r'.repeat(501), ['user_id', 'reason']],
    ] as const) {
      it(`${name}: INVALID_ARGUMENT on ${fields.join(', ')}`, async () => {
        await expectRpcError(call(identity(), 'suspendUser', { userId, reason }, bearer(admin)), status.INVALID_ARGUMENT, {
          fields: [...fields],
        });
      });
    }

    it('an unknown user: NOT_FOUND for suspend and reactivate', async () => {
      await expectRpcError(
        call(identity(), 'suspendUser', { userId: randomUUID(), reason: '' }, bearer(admin)),
        status.NOT_FOUND,
        { reason: 'USER_NOT_FOUND' },
      );
      await expectRpcError(call(identity(), 'reactivateUser', { userId: randomUUID() }, bearer(admin)), status.NOT_FOUND, {
        reason: 'USER_NOT_FOUND',
      });
    });
  });
});
