import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { decodeProtectedHeader } from 'jose';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { signedInUser, sql } from '../helpers/fixtures.js';
import { beforeBuildingTessera, runTessera, tesseraEnv } from '../helpers/process.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { BOOTSTRAP_ADMIN, bearer, call, startTestServer, type TestServer } from '../helpers/server.js';

const kidOf = (token: string) => decodeProtectedHeader(token).kid;

describe('Signing key rotation', function () {
  this.timeout(30_000);
  let db: TestDatabase;
  let server: TestServer;
  let adminToken: string;
  beforeBuildingTessera();

  before(async () => {
    db = await createTestDatabase();
    server = await startTestServer(db, { SIGNING_KEYS_RELOAD_SECONDS: '1' });
    adminToken = (await call(server.auth, 'login', BOOTSTRAP_ADMIN)).tokens!.accessToken;
  });
  after(async () => {
    await server.close();
    await db.drop();
  });
  afterEach(() => server.clock.reset());

  const rotate = (immediate: boolean, token = adminToken) => call(server.auth, 'rotateSigningKey', { immediate }, bearer(token));
  const jwksKids = async () => (await call(server.auth, 'getJwks', {})).keys.map((k) => k.kid);

  it('publishes a next key beside the active one from the start', async () => {
    const states = await sql<{ state: string }>('select state from signing_keys order by created_at', [], db);
    expect(states.map((s) => s.state)).to.have.members(['active', 'next']);
    expect(await jwksKids()).to.have.length(2);
  });

  it('does not promote a next key published less than the propagation delay ago, and says when it may', async () => {
    const before = await signedInUser({ server });

    const res = await rotate(false);

    expect(res.promoted).to.equal(false);
    expect(res.promotableAt!.getTime()).to.be.greaterThan(Date.now());
    expect(res.activeKid).to.equal(kidOf(before.accessToken));
  });

  it('promotes the published next key: new tokens use its kid, older tokens still verify', async () => {
    const before = await signedInUser({ server });
    const oldKid = kidOf(before.accessToken);
    const { nextKid } = await rotate(false);
    server.clock.advance(601);
    // Rotation needs a recent authentication (step-up): the administrator proves it again.
    const fresh = await call(
      server.auth,
      'reauthenticate',
      { currentPassword: BOOTSTRAP_ADMIN.password, code: '' },
      bearer(adminToken),
    );

    const res = await rotate(false, fresh.accessToken);

    expect(res).to.include({ promoted: true, activeKid: nextKid, retiredKid: oldKid });
    const after = await call(server.auth, 'login', { email: before.email, password: before.password });
    expect(kidOf(after.tokens!.accessToken)).to.equal(nextKid);
    // The token signed before the rotation is still accepted and introspects as active.
    await call(server.profile, 'getProfile', { userId: '' }, bearer(before.accessToken));
    expect((await call(server.auth, 'introspectToken', { token: before.accessToken })).active).to.equal(true);
    // Retired, active and the new next key are all published.
    expect(await jwksKids()).to.include.members([oldKid, nextKid, res.nextKid]);
  });

  it('unpublishes a retired key once the tokens it signed have expired', async () => {
    const { activeKid: retiring } = await rotate(true);
    const { retiredKid } = await rotate(true);
    expect(retiredKid).to.equal(retiring);

    // Access TTL (900 s) plus two reload intervals and a minute of skew.
    server.clock.advance(900 + 2 + 61);
    await new Promise((r) => setTimeout(r, 1300));

    expect(await jwksKids()).to.not.include(retiring);
  });

  it('refuses callers without keys:rotate', async () => {
    const user = await signedInUser({ server });
    await expectRpcError(rotate(true, user.accessToken), status.PERMISSION_DENIED, { reason: 'PERMISSION_DENIED' });
    await expectRpcError(call(server.auth, 'rotateSigningKey', { immediate: true }), status.UNAUTHENTICATED);
  });

  it('records signing_key.rotated naming the kids', async () => {
    const res = await rotate(true);
    const events = await sql<{ metadata: Record<string, unknown> }>(
      `select metadata from audit_events where type = 'signing_key.rotated' order by id desc limit 1`,
      [],
      db,
    );
    expect(events[0].metadata).to.include({
      kid: res.activeKid,
      alg: 'EdDSA',
      retired_kid: res.retiredKid,
      next_kid: res.nextKid,
    });
  });

  it('rotates from the command line, and another running instance picks the new key up', async () => {
    const env = tesseraEnv(db.url, {
      TESSERA_PEPPER: server.env.TESSERA_PEPPER,
      TESSERA_MASTER_KEY: server.env.TESSERA_MASTER_KEY,
    });
    const user = await signedInUser({ server });
    const oldKid = kidOf(user.accessToken);

    const result = await runTessera(['rotate-signing-key', '--now'], env);

    expect(result.code, result.stderr).to.equal(0);
    const newKid = result.stdout.match(/^active (\S+)$/m)![1];
    expect(result.stdout).to.contain(`retired ${oldKid}`);
    await new Promise((r) => setTimeout(r, 1300));
    const again = await call(server.auth, 'login', { email: user.email, password: user.password });
    expect(kidOf(again.tokens!.accessToken)).to.equal(newKid);
    await call(server.profile, 'getProfile', { userId: '' }, bearer(user.accessToken));
  });
});
