import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import type { ListUsersRequest } from '../../src/gen/tessera/v1/identity_service.js';
import { Role, UserStatus } from '../../src/gen/tessera/v1/user.js';
import { adminToken, registerUser, serviceAccountKey, signedInWithRole, sql } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, call } from '../helpers/server.js';

function listUsers(token: string, request: Partial<ListUsersRequest>) {
  return call(
    harness().server.identity,
    'listUsers',
    { pageSize: 0, pageToken: '', filter: '', showDeleted: false, ...request },
    bearer(token),
  );
}

/** Registers a user tagged with app_metadata.batch (addresses are encrypted: no prefix can scope a test's users). */
async function userInBatch(batch: string, email?: string): Promise<string> {
  const { user } = await registerUser({ email });
  await sql(`update users set app_metadata = app_metadata || jsonb_build_object('batch', $1::text) where id = $2`, [
    batch,
    user.id,
  ]);
  return user.id;
}

/** The filter condition selecting one batch. */
const inBatch = (batch: string) => `app_metadata.batch = "${batch}"`;

/** Registers `count` users of a fresh batch; returns the batch and their ids in creation order. */
async function usersWithPrefix(count: number): Promise<{ prefix: string; ids: string[] }> {
  const prefix = `l${randomBytes(5).toString('hex')}`;
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push(await userInBatch(prefix));
  return { prefix, ids };
}

describe('IdentityService.ListUsers', () => {
  let admin: string;
  before(async () => {
    admin = await adminToken();
  });

  it('pages through a filtered set with no duplicates or gaps while users are added between pages', async () => {
    const { prefix, ids } = await usersWithPrefix(7);
    const filter = inBatch(prefix);
    const seen: string[] = [];
    const added: string[] = [];

    let res = await listUsers(admin, { pageSize: 3, filter });
    expect(res.totalSize).to.equal(7);
    while (true) {
      expect(res.users.length).to.be.at.most(3);
      seen.push(...res.users.map((u) => u.id));
      if (!res.nextPageToken) break;
      // Someone signs up between two pages.
      added.push(await userInBatch(prefix));
      res = await listUsers(admin, { pageSize: 3, filter, pageToken: res.nextPageToken });
    }

    expect(new Set(seen).size, 'no duplicates').to.equal(seen.length);
    expect(seen.slice(0, 7), 'every original user, in creation order').to.deep.equal(ids);
    // Users added meanwhile come after the cursor, so they show up at the end rather than shifting pages.
    expect(seen.slice(7)).to.deep.equal(added.slice(0, seen.length - 7));
    expect(res.totalSize).to.equal(7 + added.length);
  });

  it('lists the whole table across pages without duplicates, missing nobody who existed before', async () => {
    await usersWithPrefix(2);
    const before = (await sql<{ id: string }>(`select id from users where status <> 'deleted'`)).map((r) => r.id);
    const seen: string[] = [];
    let pageToken = '';
    do {
      const res = await listUsers(admin, { pageSize: 25, pageToken });
      seen.push(...res.users.map((u) => u.id));
      pageToken = res.nextPageToken;
      if (pageToken) await registerUser();
    } while (pageToken);
    expect(new Set(seen).size).to.equal(seen.length);
    expect(seen).to.include.members(before);
  });

  it('returns users oldest first with every field, the default page size being 50', async () => {
    await usersWithPrefix(1);
    const res = await listUsers(admin, {});
    expect(res.users.length).to.be.at.most(50);
    const times = res.users.map((u) => u.createdAt!.getTime());
    expect(times).to.deep.equal([...times].sort((a, b) => a - b));
    const first = res.users[0];
    expect(first.id).to.be.a('string');
    expect(first.email).to.contain('@');
    expect(first.status).to.equal(UserStatus.USER_STATUS_ACTIVE);
    expect(first.appMetadata).to.deep.equal({});
  });

  it('lowers a page size over 1000 to 1000 rather than failing', async () => {
    const res = await listUsers(admin, { pageSize: 5000, filter: 'role = admin' });
    expect(res.users.length).to.be.at.least(1);
  });

  describe('filters', () => {
    it('by status, role and app_metadata, combined with AND', async () => {
      const { prefix, ids } = await usersWithPrefix(4);
      await sql(`update users set status = 'suspended' where id = $1`, [ids[0]]);
      await sql(`update users set role = 'auditor' where id = any($1)`, [[ids[1], ids[2]]]);

      const suspended = await listUsers(admin, { filter: `${inBatch(prefix)} AND status = "suspended"` });
      expect(suspended.users.map((u) => u.id)).to.deep.equal([ids[0]]);
      const auditors = await listUsers(admin, { filter: `${inBatch(prefix)} AND role = ROLE_AUDITOR` });
      expect(auditors.users.map((u) => u.id)).to.deep.equal([ids[1], ids[2]]);
      expect(auditors.totalSize).to.equal(2);
      const activeUsers = await listUsers(admin, { filter: `${inBatch(prefix)} AND status != suspended AND role = user` });
      expect(activeUsers.users.map((u) => u.id)).to.deep.equal([ids[3]]);
    });

    it('by exact email, in any letter case', async () => {
      const { user, email } = await registerUser();
      const res = await listUsers(admin, { filter: `email = "${email.toUpperCase()}"` });
      expect(res.users.map((u) => u.id)).to.deep.equal([user.id]);
    });

    it('refuses an email prefix: addresses are stored encrypted, only the exact address is searchable', async () => {
      const { email } = await registerUser();
      const details = await expectRpcError(
        listUsers(admin, { filter: `email:"${email.slice(0, 5)}*"` }),
        status.INVALID_ARGUMENT,
        { fields: ['filter'] },
      );
      expect(details.badRequest!.fieldViolations[0].description).to.contain('exact address');
    });

    it('by creation time, with created_at or create_time', async () => {
      const { prefix, ids } = await usersWithPrefix(3);
      await sql(`update users set created_at = '2020-01-01T00:00:00Z' where id = $1`, [ids[0]]);
      await sql(`update users set created_at = '2021-06-01T00:00:00Z' where id = $1`, [ids[1]]);

      const old = await listUsers(admin, { filter: `${inBatch(prefix)} AND create_time < "2021-01-01T00:00:00Z"` });
      expect(old.users.map((u) => u.id)).to.deep.equal([ids[0]]);
      const range = await listUsers(admin, {
        filter: `${inBatch(prefix)} AND created_at >= "2020-01-01T00:00:00Z" AND created_at <= "2021-06-01T00:00:00+00:00"`,
      });
      expect(range.users.map((u) => u.id)).to.deep.equal([ids[0], ids[1]]);
      const recent = await listUsers(admin, { filter: `${inBatch(prefix)} AND create_time > "2022-01-01T00:00:00Z"` });
      expect(recent.users.map((u) => u.id)).to.deep.equal([ids[2]]);
    });

    it('by app_metadata key and value, matching the JSON type, nested keys and key presence', async () => {
      const { prefix, ids } = await usersWithPrefix(4);
      const merge = `update users set app_metadata = app_metadata || $1 where id = $2`;
      await sql(merge, [{ plan: 'pro', seats: 5, beta: true }, ids[0]]);
      await sql(merge, [{ plan: 'free', seats: '5', limits: { tier: 'gold' } }, ids[1]]);
      await sql(merge, [{ plan: 'pro' }, ids[2]]);
      const scoped = (f: string) =>
        listUsers(admin, { filter: `${inBatch(prefix)} AND ${f}` }).then((r) => r.users.map((u) => u.id));

      expect(await scoped('app_metadata.plan = "pro"')).to.deep.equal([ids[0], ids[2]]);
      expect(await scoped('app_metadata.seats = 5')).to.deep.equal([ids[0]]);
      expect(await scoped('app_metadata.seats = "5"')).to.deep.equal([ids[1]]);
      expect(await scoped('app_metadata.beta = true')).to.deep.equal([ids[0]]);
      expect(await scoped('app_metadata.limits.tier = "gold"')).to.deep.equal([ids[1]]);
      expect(await scoped('app_metadata.plan != "pro"')).to.deep.equal([ids[1], ids[3]]);
      expect(await scoped('app_metadata.limits:*')).to.deep.equal([ids[1]]);
      expect(await scoped('app_metadata.plan = "pro" AND app_metadata.beta = true')).to.deep.equal([ids[0]]);
    });
  });

  describe('soft-deleted users', () => {
    it('are left out unless show_deleted is set', async () => {
      const { prefix, ids } = await usersWithPrefix(2);
      await sql(`update users set status = 'deleted', deleted_at = now() where id = $1`, [ids[0]]);

      const visible = await listUsers(admin, { filter: inBatch(prefix) });
      expect(visible.users.map((u) => u.id)).to.deep.equal([ids[1]]);
      expect(visible.totalSize).to.equal(1);
      const all = await listUsers(admin, { filter: inBatch(prefix), showDeleted: true });
      expect(all.users.map((u) => u.id)).to.deep.equal(ids);
      expect(all.users[0].status).to.equal(UserStatus.USER_STATUS_DELETED);
      expect(all.users[0].deletedAt).to.be.instanceOf(Date);
      const onlyDeleted = await listUsers(admin, { filter: `${inBatch(prefix)} AND status = deleted`, showDeleted: true });
      expect(onlyDeleted.users.map((u) => u.id)).to.deep.equal([ids[0]]);
    });

    it('asked for by status without show_deleted: INVALID_ARGUMENT on filter', async () => {
      const details = await expectRpcError(listUsers(admin, { filter: 'status = "deleted"' }), status.INVALID_ARGUMENT, {
        fields: ['filter'],
      });
      expect(details.badRequest!.fieldViolations[0].description).to.contain('show_deleted');
    });
  });

  describe('refusals', () => {
    it('refuses a page token reused with another filter: INVALID_ARGUMENT on page_token', async () => {
      const { prefix } = await usersWithPrefix(3);
      const first = await listUsers(admin, { pageSize: 1, filter: inBatch(prefix) });
      const details = await expectRpcError(
        listUsers(admin, { pageSize: 1, filter: 'role = user', pageToken: first.nextPageToken }),
        status.INVALID_ARGUMENT,
        { fields: ['page_token'] },
      );
      expect(details.badRequest!.fieldViolations[0].description).to.contain('another filter');
      await expectRpcError(
        listUsers(admin, { pageSize: 1, filter: inBatch(prefix), showDeleted: true, pageToken: first.nextPageToken }),
        status.INVALID_ARGUMENT,
        { fields: ['page_token'] },
      );
    });

    for (const token of ['garbage', Buffer.from('{"v":1}').toString('base64url'), 'x'.repeat(600)]) {
      it(`refuses the page token ${JSON.stringify(token.slice(0, 20))} with INVALID_ARGUMENT on page_token`, async () => {
        await expectRpcError(listUsers(admin, { pageToken: token }), status.INVALID_ARGUMENT, { fields: ['page_token'] });
      });
    }

    it('refuses a negative page size with INVALID_ARGUMENT on page_size', async () => {
      await expectRpcError(listUsers(admin, { pageSize: -1 }), status.INVALID_ARGUMENT, { fields: ['page_size'] });
    });

    it('refuses a filter that does not parse with INVALID_ARGUMENT on filter, saying why', async () => {
      const details = await expectRpcError(listUsers(admin, { filter: 'nickname = "ada"' }), status.INVALID_ARGUMENT, {
        fields: ['filter'],
      });
      expect(details.badRequest!.fieldViolations[0].description).to.contain('unknown field "nickname"');
    });

    it('is PERMISSION_DENIED to a user', async () => {
      const user = await signedInWithRole('user');
      await expectRpcError(listUsers(user.accessToken, {}), status.PERMISSION_DENIED, { reason: 'PERMISSION_DENIED' });
    });
  });

  it('is open to auditors and service accounts (users:read)', async () => {
    const auditor = await signedInWithRole('auditor');
    expect((await listUsers(auditor.accessToken, { pageSize: 1 })).users).to.have.length(1);
    const { apiKey } = await serviceAccountKey(Role.ROLE_SERVICE);
    expect((await listUsers(apiKey, { pageSize: 1 })).users).to.have.length(1);
  });
});
