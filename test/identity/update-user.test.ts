import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { UpdateUserRequest } from '../../src/gen/tessera/v1/identity_service.js';
import { Role, type User } from '../../src/gen/tessera/v1/user.js';
import { auditEventsOfRequest, serviceAccountKey, signedInUser, signedInWithRole, sql, traced } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, BOOTSTRAP_ADMIN, call } from '../helpers/server.js';

function updateUser(token: string, user: Partial<User>, paths: string[], metadata = bearer(token)) {
  const request: UpdateUserRequest = {
    user: { id: '', email: '', emailVerified: false, role: 0, status: 0, ...user } as User,
    updateMask: paths,
  };
  return call(harness().server.identity, 'updateUser', request, metadata);
}

async function roleInDatabase(userId: string): Promise<string> {
  return (await sql<{ role: string }>('select role from users where id = $1', [userId]))[0].role;
}

describe('IdentityService.UpdateUser', () => {
  let admin: string;
  let adminId: string;
  before(async () => {
    const res = await call(harness().server.auth, 'login', BOOTSTRAP_ADMIN);
    admin = res.tokens!.accessToken;
    adminId = res.user!.id;
  });

  describe('role', () => {
    it('is changed by the admin, recorded as user.role_changed, and ends the sessions whose tokens carry the old role', async () => {
      const target = await signedInUser();
      await expectRpcError(
        call(
          harness().server.identity,
          'listUsers',
          { pageSize: 1, pageToken: '', filter: '', showDeleted: false },
          bearer(target.accessToken),
        ),
        status.PERMISSION_DENIED,
      );
      const { metadata, requestId } = traced(admin);

      const { user } = await updateUser(admin, { id: target.user!.id, role: Role.ROLE_AUDITOR }, ['role'], metadata);

      expect(user!.role).to.equal(Role.ROLE_AUDITOR);
      expect(await roleInDatabase(target.user!.id)).to.equal('auditor');
      const events = await auditEventsOfRequest(requestId);
      expect(events.map((e) => e.type)).to.deep.equal(['user.role_changed', 'sessions.revoked_all']);
      expect(events[0]).to.include({
        type: 'user.role_changed',
        subject_user_id: target.user!.id,
        actor_type: 'user',
        actor_id: adminId,
      });
      expect(events[0].metadata).to.deep.equal({ old_role: 'user', new_role: 'auditor' });
      expect(events[1].metadata).to.include({ reason: 'role_changed', sessions_revoked: 1 });
      // Access tokens carry the role: the old ones end, and a new sign-in has the new role.
      await expectRpcError(
        call(harness().server.profile, 'getProfile', { userId: '' }, bearer(target.accessToken)),
        status.UNAUTHENTICATED,
        { reason: 'SESSION_REVOKED' },
      );
      const fresh = await call(harness().server.auth, 'login', { email: target.email, password: target.password });
      const page = await call(
        harness().server.identity,
        'listUsers',
        { pageSize: 1, pageToken: '', filter: '', showDeleted: false },
        bearer(fresh.tokens!.accessToken),
      );
      expect(page.users).to.have.length(1);
    });

    it('can make another administrator', async () => {
      const target = await signedInUser();
      const { user } = await updateUser(admin, { id: target.user!.id, role: Role.ROLE_ADMIN }, ['role']);
      expect(user!.role).to.equal(Role.ROLE_ADMIN);
    });

    it('is never changed by its owner, even an admin: PERMISSION_DENIED, SELF_CHANGE_FORBIDDEN', async () => {
      const other = await signedInWithRole('admin');
      await expectRpcError(
        updateUser(other.accessToken, { id: other.user!.id, role: Role.ROLE_USER }, ['role']),
        status.PERMISSION_DENIED,
        {
          reason: 'SELF_CHANGE_FORBIDDEN',
        },
      );
      expect(await roleInDatabase(other.user!.id)).to.equal('admin');
    });

    it('cannot be raised by a user through any RPC', async () => {
      const user = await signedInUser();
      await expectRpcError(
        updateUser(user.accessToken, { id: user.user!.id, role: Role.ROLE_ADMIN }, ['role']),
        status.PERMISSION_DENIED,
        {
          reason: 'PERMISSION_DENIED',
        },
      );
      await expectRpcError(
        call(harness().server.profile, 'updateProfile', { profile: undefined, updateMask: ['role'] }, bearer(user.accessToken)),
        status.INVALID_ARGUMENT,
        { fields: ['update_mask'] },
      );
      await expectRpcError(
        call(
          harness().server.identity,
          'createServiceAccount',
          { name: 'my-admin-key', role: Role.ROLE_ADMIN, certificateIdentity: '' },
          bearer(user.accessToken),
        ),
        status.PERMISSION_DENIED,
      );
      const relogin = await call(harness().server.auth, 'login', { email: user.email, password: user.password });
      expect(relogin.user!.role).to.equal(Role.ROLE_USER);
      expect(await roleInDatabase(user.user!.id)).to.equal('user');
    });

    it('is not changed by a service account (roles need an administrator)', async () => {
      const target = await signedInUser();
      const { apiKey } = await serviceAccountKey();
      await expectRpcError(
        updateUser(apiKey, { id: target.user!.id, role: Role.ROLE_AUDITOR }, ['role']),
        status.PERMISSION_DENIED,
        {
          reason: 'PERMISSION_DENIED',
        },
      );
      expect(await roleInDatabase(target.user!.id)).to.equal('user');
    });

    it('refuses ROLE_SERVICE and ROLE_UNSPECIFIED for a person with INVALID_ARGUMENT on user.role', async () => {
      const target = await signedInUser();
      for (const role of [Role.ROLE_SERVICE, Role.ROLE_UNSPECIFIED]) {
        await expectRpcError(updateUser(admin, { id: target.user!.id, role }, ['role']), status.INVALID_ARGUMENT, {
          fields: ['user.role'],
        });
      }
    });
  });

  describe('email_verified and app_metadata', () => {
    it('are set by the admin; user.updated names the changed fields only', async () => {
      const target = await signedInUser();
      const { metadata, requestId } = traced(admin);
      const appMetadata = { plan: 'pro', seats: 12, flags: { beta: true } };

      const { user } = await updateUser(
        admin,
        { id: target.user!.id, emailVerified: true, appMetadata },
        ['email_verified', 'app_metadata'],
        metadata,
      );

      expect(user!.emailVerified).to.equal(true);
      expect(user!.appMetadata).to.deep.equal(appMetadata);
      const events = await auditEventsOfRequest(requestId);
      expect(events.map((e) => e.type)).to.deep.equal(['user.updated']);
      expect(events[0].metadata).to.deep.equal({ fields: ['email_verified', 'app_metadata'] });
      // The user reads it on their own account, and at sign-in.
      const own = await call(harness().server.identity, 'getUser', { userId: '' }, bearer(target.accessToken));
      expect(own.user!.appMetadata).to.deep.equal(appMetadata);
      const login = await call(harness().server.auth, 'login', { email: target.email, password: target.password });
      expect(login.user!.appMetadata).to.deep.equal(appMetadata);
    });

    it('changes only masked fields and records nothing when nothing changed', async () => {
      const target = await signedInUser();
      await updateUser(admin, { id: target.user!.id, appMetadata: { plan: 'free' } }, ['app_metadata']);
      const { metadata, requestId } = traced(admin);

      const { user } = await updateUser(
        admin,
        { id: target.user!.id, appMetadata: { plan: 'free' }, emailVerified: true },
        ['app_metadata'],
        metadata,
      );

      expect(user!.emailVerified).to.equal(false);
      expect(await auditEventsOfRequest(requestId)).to.deep.equal([]);
    });

    it('clears email verification with email_verified false', async () => {
      const target = await signedInWithRole('user');
      const { user } = await updateUser(admin, { id: target.user!.id, emailVerified: false }, ['email_verified']);
      expect(user!.emailVerified).to.equal(false);
    });

    it('are written by a service account, recorded with the service account as actor', async () => {
      const target = await signedInUser();
      const { apiKey, id } = await serviceAccountKey();
      const { metadata, requestId } = traced(apiKey);

      const { user } = await updateUser(
        apiKey,
        { id: target.user!.id, appMetadata: { tenant: 'acme' } },
        ['app_metadata'],
        metadata,
      );

      expect(user!.appMetadata).to.deep.equal({ tenant: 'acme' });
      const [event] = await auditEventsOfRequest(requestId);
      expect(event).to.include({ type: 'user.updated', actor_type: 'service_account', actor_id: id });
    });

    it("are not written to an administrator's account by a service account", async () => {
      const { apiKey } = await serviceAccountKey();
      await expectRpcError(
        updateUser(apiKey, { id: adminId, appMetadata: { x: 1 } }, ['app_metadata']),
        status.PERMISSION_DENIED,
        {
          reason: 'PERMISSION_DENIED',
        },
      );
    });

    it('are not written by an auditor or a user (PERMISSION_DENIED)', async () => {
      const target = await signedInUser();
      const auditor = await signedInWithRole('auditor');
      for (const token of [auditor.accessToken, target.accessToken]) {
        await expectRpcError(
          updateUser(token, { id: target.user!.id, appMetadata: { plan: 'free-forever' } }, ['app_metadata']),
          status.PERMISSION_DENIED,
        );
      }
      expect(
        (await sql<{ app_metadata: object }>('select app_metadata from users where id = $1', [target.user!.id]))[0].app_metadata,
      ).to.deep.equal({});
    });
  });

  describe('refusals', () => {
    const cases: { name: string; user: () => Partial<User>; paths: string[]; fields: string[] }[] = [
      { name: 'a missing user.id', user: () => ({ id: '' }), paths: ['email_verified'], fields: ['user.id'] },
      { name: 'a malformed user.id', user: () => ({ id: 'abc' }), paths: ['email_verified'], fields: ['user.id'] },
      { name: 'an empty mask', user: () => ({ id: randomUUID() }), paths: [], fields: ['update_mask'] },
      { name: 'an unknown path', user: () => ({ id: randomUUID() }), paths: ['email'], fields: ['update_mask'] },
      { name: 'a path named twice', user: () => ({ id: randomUUID() }), paths: ['role', 'role'], fields: ['update_mask'] },
      {
        name: 'app_metadata over 16 KiB',
        user: () => ({ id: randomUUID(), appMetadata: { blob: 'x'.repeat(17 * 1024) } }),
        paths: ['app_metadata'],
        fields: ['user.app_metadata'],
      },
      {
        name: 'status in the mask (it has its own RPCs)',
        user: () => ({ id: randomUUID() }),
        paths: ['status'],
        fields: ['update_mask'],
      },
    ];
    for (const c of cases) {
      it(`refuses ${c.name} with INVALID_ARGUMENT on ${c.fields.join(', ')}`, async () => {
        await expectRpcError(updateUser(admin, { role: Role.ROLE_USER, ...c.user() }, c.paths), status.INVALID_ARGUMENT, {
          fields: c.fields,
        });
      });
    }

    it('answers NOT_FOUND for an unknown user', async () => {
      await expectRpcError(updateUser(admin, { id: randomUUID(), emailVerified: true }, ['email_verified']), status.NOT_FOUND, {
        reason: 'USER_NOT_FOUND',
      });
    });

    it('refuses to change a soft-deleted user: FAILED_PRECONDITION, USER_DELETED', async () => {
      const target = await signedInUser();
      await sql(`update users set status = 'deleted', deleted_at = now() where id = $1`, [target.user!.id]);
      await expectRpcError(
        updateUser(admin, { id: target.user!.id, emailVerified: true }, ['email_verified']),
        status.FAILED_PRECONDITION,
        {
          reason: 'USER_DELETED',
        },
      );
    });
  });
});
