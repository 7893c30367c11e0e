import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { Role, User } from '../../src/gen/tessera/v1/user.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { adminToken, serviceAccountKey, signedInWithRole, sqlOn } from '../helpers/fixtures.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, BOOTSTRAP_ADMIN, call, startTestServer, type TestServer } from '../helpers/server.js';

/** A database of its own, where the bootstrap admin starts as the only administrator. */
describe('The last administrator', function () {
  this.timeout(30_000);
  let db: TestDatabase;
  let server: TestServer;
  let bootstrapId: string;

  beforeEach(async () => {
    db = await createTestDatabase();
    server = await startTestServer(db);
    bootstrapId = (await call(server.auth, 'login', BOOTSTRAP_ADMIN)).user!.id;
  });

  afterEach(async () => {
    await server.close();
    await db.drop();
  });

  const demote = (token: string, id: string) =>
    call(
      server.identity,
      'updateUser',
      { user: User.fromPartial({ id, role: Role.ROLE_USER }), updateMask: ['role'] },
      bearer(token),
    );
  const activeAdmins = async () =>
    (await sqlOn<{ id: string }>(server, `select id from users where role = 'admin' and status = 'active'`)).map((r) => r.id);

  it('cannot be demoted, suspended or deleted, even by an admin service account: FAILED_PRECONDITION, LAST_ADMIN', async () => {
    const { apiKey } = await serviceAccountKey(Role.ROLE_ADMIN, server);

    await expectRpcError(demote(apiKey, bootstrapId), status.FAILED_PRECONDITION, { reason: 'LAST_ADMIN' });
    await expectRpcError(
      call(server.identity, 'suspendUser', { userId: bootstrapId, reason: '' }, bearer(apiKey)),
      status.FAILED_PRECONDITION,
      {
        reason: 'LAST_ADMIN',
      },
    );
    await expectRpcError(
      call(server.identity, 'deleteUser', { userId: bootstrapId }, bearer(apiKey)),
      status.FAILED_PRECONDITION,
      {
        reason: 'LAST_ADMIN',
      },
    );
    expect(await activeAdmins()).to.deep.equal([bootstrapId]);
  });

  it('can be demoted once another administrator exists; a suspended admin does not count', async () => {
    const { apiKey } = await serviceAccountKey(Role.ROLE_ADMIN, server);
    const second = await signedInWithRole('admin', { server });
    await call(server.identity, 'suspendUser', { userId: second.user!.id, reason: '' }, bearer(await adminToken(server)));
    await expectRpcError(demote(apiKey, bootstrapId), status.FAILED_PRECONDITION, { reason: 'LAST_ADMIN' });

    await call(server.identity, 'reactivateUser', { userId: second.user!.id }, bearer(apiKey));
    const { user } = await demote(apiKey, bootstrapId);

    expect(user!.role).to.equal(Role.ROLE_USER);
    expect(await activeAdmins()).to.deep.equal([second.user!.id]);
  });

  it('survives two administrators demoting each other at the same moment: exactly one of them stays', async () => {
    const bootstrap = await adminToken(server);
    const second = await signedInWithRole('admin', { server });

    const results = await Promise.allSettled([demote(bootstrap, second.user!.id), demote(second.accessToken, bootstrapId)]);

    expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    // The loser either finds itself the last admin, or, demoted first, no longer has the right to demote.
    expect([status.FAILED_PRECONDITION, status.PERMISSION_DENIED]).to.include((refused.reason as { code: number }).code);
    expect(await activeAdmins()).to.have.length(1);
  });
});
