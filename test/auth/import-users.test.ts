import { hash as bcryptHash } from '@node-rs/bcrypt';
import { status } from '@grpc/grpc-js';
import argon2 from 'argon2';
import { expect } from 'chai';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pepperIdOf } from '../../src/crypto/passwords.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { registerUser, sql, uniqueEmail } from '../helpers/fixtures.js';
import { beforeBuildingTessera, runTessera, tesseraEnv } from '../helpers/process.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { call, startTestServer, type TestServer } from '../helpers/server.js';
import { emailIndexOf } from '../helpers/email-index.js';

const PASSWORD = 'my old system passphrase';

async function legacyMetric(server: TestServer): Promise<Record<string, number>> {
  const body = await (await fetch(`http://127.0.0.1:${server.tessera.httpPort}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of body.matchAll(/^tessera_legacy_password_hashes\{scheme="(\w+)"\} (\d+)$/gm)) out[m[1]] = Number(m[2]);
  return out;
}

describe('tessera import-users', function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let server: TestServer;
  const users = {
    bcrypt: uniqueEmail('bcrypt'),
    argon2: uniqueEmail('argon2'),
    django: uniqueEmail('django'),
    passlib: uniqueEmail('passlib'),
  };
  let result: Awaited<ReturnType<typeof runTessera>>;
  beforeBuildingTessera();

  before(async () => {
    db = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'tessera-import-'));
    env = tesseraEnv(db.url);
    const salt = randomBytes(12);
    const ab64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '').replaceAll('+', '.');
    const lines = [
      {
        email: users.bcrypt,
        password_hash: await bcryptHash(PASSWORD, { cost: 4 }),
        full_name: 'Bea Crypt',
        email_verified: true,
      },
      {
        email: users.argon2,
        password_hash: await argon2.hash(PASSWORD, { type: argon2.argon2id, memoryCost: 8192, timeCost: 1 }),
      },
      {
        email: users.django,
        password_hash: `pbkdf2_sha256$1000$saltsalt$${pbkdf2Sync(PASSWORD, 'saltsalt', 1000, 32, 'sha256').toString('base64')}`,
      },
      {
        email: users.passlib,
        password_hash: `$pbkdf2-sha256$1000$${ab64(salt)}$${ab64(pbkdf2Sync(PASSWORD, salt, 1000, 32, 'sha256'))}`,
      },
      { email: users.bcrypt.toUpperCase(), password_hash: await bcryptHash('a duplicate', { cost: 4 }) },
      { email: uniqueEmail('md5'), password_hash: '5f4dcc3b5aa765d61d8327deb882cf99' },
    ].map((l) => JSON.stringify(l));
    lines.splice(2, 0, '{ not json');
    writeFileSync(join(dir, 'users.jsonl'), `${lines.join('\n')}\n`);
    result = await runTessera(['import-users', join(dir, 'users.jsonl')], env, { timeoutMs: 30_000 });
    server = await startTestServer(db, { TESSERA_PEPPER: env.TESSERA_PEPPER!, TESSERA_MASTER_KEY: env.TESSERA_MASTER_KEY! });
  });

  after(async () => {
    await server.close();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(env.TESSERA_DATA_DIR!, { recursive: true, force: true });
  });

  it('imports the valid lines, skips a known address, reports bad lines by number, and exits 1', () => {
    expect(result.stdout).to.contain('imported 4, skipped 1 (address already registered), failed 2');
    expect(result.stderr).to.contain('line 3: not valid JSON');
    expect(result.stderr).to.contain('line 7: password_hash is missing or not a supported');
    expect(result.stderr).to.match(/import: 100%/);
    expect(result.code).to.equal(1);
    expect(result.stdout + result.stderr).to.not.contain('5f4dcc3b5aa765d61d8327deb882cf99');
  });

  for (const scheme of ['bcrypt', 'argon2', 'django', 'passlib'] as const) {
    it(`lets a user imported with a ${scheme} hash sign in with the old password, then stores argon2id`, async () => {
      const email = users[scheme];
      await expectRpcError(call(server.auth, 'login', { email, password: 'wrong password' }), status.UNAUTHENTICATED);

      const login = await call(server.auth, 'login', { email, password: PASSWORD });

      const [row] = await sql<{ password_hash: string; password_pepper_id: string }>(
        'select password_hash, password_pepper_id from users where email_index = $1',
        [emailIndexOf(email)],
        db,
      );
      expect(row.password_hash).to.match(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      expect(row.password_pepper_id).to.equal(pepperIdOf(Buffer.from(env.TESSERA_PEPPER!, 'base64')));
      expect(login.user!.emailVerified).to.equal(scheme === 'bcrypt');
      await call(server.auth, 'login', { email, password: PASSWORD });
    });
  }

  it('shows the remaining legacy hashes as a metric, which sign-ins bring down', async () => {
    const before = await legacyMetric(server);
    const email = uniqueEmail('late');
    writeFileSync(join(dir, 'late.jsonl'), JSON.stringify({ email, password_hash: await bcryptHash(PASSWORD, { cost: 4 }) }));
    expect((await runTessera(['import-users', join(dir, 'late.jsonl')], env)).code).to.equal(0);
    expect((await legacyMetric(server)).bcrypt).to.equal((before.bcrypt ?? 0) + 1);

    await call(server.auth, 'login', { email, password: PASSWORD });

    expect((await legacyMetric(server)).bcrypt).to.equal(before.bcrypt ?? 0);
  });

  it('records user.imported with the hash scheme, and no hash', async () => {
    const events = await sql<{ metadata: Record<string, unknown> }>(
      `select metadata from audit_events where type = 'user.imported'`,
      [],
      db,
    );
    expect(events.map((e) => e.metadata.hash_scheme)).to.include.members(['bcrypt', 'argon2', 'pbkdf2']);
    expect(JSON.stringify(events)).to.not.contain('$2');
  });
});

describe('Rehash on sign-in after a pepper rotation', function () {
  this.timeout(30_000);

  it('verifies a hash made with a previous pepper and rehashes it with the current one', async () => {
    const db = await createTestDatabase();
    const [oldPepper, newPepper] = [randomBytes(32).toString('base64'), randomBytes(32).toString('base64')];
    const masterKey = randomBytes(32).toString('base64');
    const first = await startTestServer(db, { TESSERA_PEPPER: oldPepper, TESSERA_MASTER_KEY: masterKey });
    const { email, password } = await registerUser({ server: first });
    await first.close();

    const rotated = await startTestServer(db, {
      TESSERA_PEPPER: newPepper,
      TESSERA_PREVIOUS_PEPPERS: oldPepper,
      TESSERA_MASTER_KEY: masterKey,
    });
    try {
      const [before] = await sql<{ password_pepper_id: string }>(
        'select password_pepper_id from users where email_index = $1',
        [emailIndexOf(email)],
        db,
      );
      expect(before.password_pepper_id).to.equal(pepperIdOf(Buffer.from(oldPepper, 'base64')));
      await call(rotated.auth, 'login', { email, password });
      const [after] = await sql<{ password_pepper_id: string }>(
        'select password_pepper_id from users where email_index = $1',
        [emailIndexOf(email)],
        db,
      );
      expect(after.password_pepper_id).to.equal(pepperIdOf(Buffer.from(newPepper, 'base64')));
    } finally {
      await rotated.close();
    }

    // The old pepper is no longer needed.
    const onlyNew = await startTestServer(db, { TESSERA_PEPPER: newPepper, TESSERA_MASTER_KEY: masterKey });
    try {
      await call(onlyNew.auth, 'login', { email, password });
    } finally {
      await onlyNew.close();
      await db.drop();
    }
  });
});
