import { expect } from 'chai';
import { decodeProtectedHeader } from 'jose';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { BOOTSTRAP_ADMIN, bearer, call, startTestServer, type TestServer } from '../helpers/server.js';

const kidOf = (token: string) => decodeProtectedHeader(token).kid;

describe('Signing key rotation across instances (NOTIFY)', () => {
  let db: TestDatabase;
  let first: TestServer;
  let second: TestServer;

  before(async () => {
    db = await createTestDatabase();
    // An hour between periodic reloads: only the notification can explain a prompt pick-up.
    first = await startTestServer(db, { SIGNING_KEYS_RELOAD_SECONDS: '3600' });
    second = await startTestServer(db, {
      SIGNING_KEYS_RELOAD_SECONDS: '3600',
      TESSERA_PEPPER: first.env.TESSERA_PEPPER,
      TESSERA_MASTER_KEY: first.env.TESSERA_MASTER_KEY,
    });
  });
  after(async () => {
    await second?.close();
    await first?.close();
    await db?.drop();
  });

  it('reaches the other instance within a second: it signs with the new key and publishes it', async () => {
    const admin = (await call(first.auth, 'login', BOOTSTRAP_ADMIN)).tokens!.accessToken;
    const before = (await call(second.auth, 'login', BOOTSTRAP_ADMIN)).tokens!.accessToken;
    const rotated = await call(first.auth, 'rotateSigningKey', { immediate: true }, bearer(admin));
    expect(rotated.promoted).to.equal(true);
    expect(kidOf(before)).to.equal(rotated.retiredKid);

    const started = Date.now();
    let kid = kidOf(before);
    while (kid !== rotated.activeKid && Date.now() - started < 1000) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      kid = kidOf((await call(second.auth, 'login', BOOTSTRAP_ADMIN)).tokens!.accessToken);
    }
    expect(kid, `the second instance still signed with the old key after ${Date.now() - started} ms`).to.equal(rotated.activeKid);
    const published = (await call(second.auth, 'getJwks', {})).keys.map((k) => k.kid);
    expect(published).to.include.members([rotated.activeKid, rotated.nextKid, rotated.retiredKid]);
  });
});
