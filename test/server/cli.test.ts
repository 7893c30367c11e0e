import { expect } from 'chai';
import { rmSync } from 'node:fs';
import pg from 'pg';
import { Role } from '../../src/gen/tessera/v1/user.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { sql, uniqueEmail } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { runTessera, tesseraEnv } from '../helpers/process.js';
import { BOOTSTRAP_ADMIN, call, startTestServer } from '../helpers/server.js';

/** Runs one query against `db`. */
async function query<T extends pg.QueryResultRow>(db: TestDatabase, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

describe('tessera command line', function () {
  this.timeout(30_000);
  const databases: TestDatabase[] = [];
  const dataDirs: string[] = [];

  async function freshDatabase(): Promise<TestDatabase> {
    const db = await createTestDatabase();
    databases.push(db);
    return db;
  }

  function envFor(db: TestDatabase, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
    const env = tesseraEnv(db.url, extra);
    dataDirs.push(env.TESSERA_DATA_DIR!);
    return env;
  }

  after(async () => {
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
    await Promise.all(databases.map((db) => db.drop()));
  });

  describe('create-admin', () => {
    it('creates an administrator with the password read from stdin, who can then sign in as ROLE_ADMIN', async () => {
      const db = await freshDatabase();
      const env = envFor(db);
      const email = uniqueEmail('cli-admin');
      const password = 'administrator passphrase from stdin';

      const result = await runTessera(['create-admin', '--email', email], env, { stdin: `${password}\n` });
      expect(result.code, result.stderr + result.stdout).to.equal(0);
      expect(result.stdout).to.contain('administrator created');
      expect(result.stdout + result.stderr).to.not.contain(password);

      const server = await startTestServer(db, {
        TESSERA_PEPPER: env.TESSERA_PEPPER!,
        TESSERA_MASTER_KEY: env.TESSERA_MASTER_KEY!,
        TESSERA_BOOTSTRAP_ADMIN_EMAIL: '',
        TESSERA_BOOTSTRAP_ADMIN_PASSWORD: '',
      });
      try {
        const login = await call(server.auth, 'login', { email, password });
        expect(login.user!.role).to.equal(Role.ROLE_ADMIN);
        expect(login.user!.emailVerified).to.equal(true);
      } finally {
        await server.close();
      }
    });

    it('refuses a short password with a non-zero exit naming the password, and creates nothing', async () => {
      const db = await freshDatabase();
      const result = await runTessera(['create-admin', '--email', uniqueEmail('cli-short')], envFor(db), { stdin: 'short\n' });
      expect(result.code).to.not.equal(0);
      expect(result.stderr)
        .to.match(/password/i)
        .and.to.contain('at least 8');
      const [{ count }] = await query<{ count: string }>(db, `select count(*) from users`);
      expect(count).to.equal('0');
    });

    it('refuses an email that is already taken with exit code 1', async () => {
      const db = await freshDatabase();
      const env = envFor(db);
      const email = uniqueEmail('cli-twice');
      const first = await runTessera(['create-admin', '--email', email], env, { stdin: 'administrator passphrase\n' });
      expect(first.code, first.stderr).to.equal(0);
      const second = await runTessera(['create-admin', '--email', email.toUpperCase()], env, {
        stdin: 'administrator passphrase\n',
      });
      expect(second.code).to.equal(1);
      expect(second.stderr).to.contain('already exists');
    });

    it('exits with code 2 and says what is missing without --email', async () => {
      const db = await freshDatabase();
      const result = await runTessera(['create-admin'], envFor(db), { stdin: 'administrator passphrase\n' });
      expect(result.code).to.equal(2);
      expect(result.stderr).to.contain('--email');
    });
  });

  describe('migrate', () => {
    it('applies the migrations, then finds nothing to do the second time (exit 0 both times)', async () => {
      const db = await freshDatabase();
      const env = envFor(db);
      const first = await runTessera(['migrate'], env);
      expect(first.code, first.stderr + first.stdout).to.equal(0);
      expect(first.stdout).to.contain('migrations applied');
      const second = await runTessera(['migrate'], env);
      expect(second.code, second.stderr + second.stdout).to.equal(0);
      expect(second.stdout).to.contain('database already up to date');
      const tables = await query<{ table_name: string }>(
        db,
        `select table_name from information_schema.tables where table_schema = 'public'`,
      );
      expect(tables.map((t) => t.table_name)).to.include.members([
        'users',
        'user_profiles',
        'sessions',
        'audit_events',
        'signing_keys',
      ]);
    });
  });

  describe('configuration errors', () => {
    it('exits with code 2 in production without TESSERA_PEPPER, naming the variable', async () => {
      const db = await freshDatabase();
      const result = await runTessera(['start'], envFor(db, { NODE_ENV: 'production', TESSERA_PEPPER: undefined }));
      expect(result.code).to.equal(2);
      const output = result.stdout + result.stderr;
      expect(output).to.contain('TESSERA_PEPPER');
      expect(output).to.not.contain('TESSERA_MASTER_KEY');
    });
  });
});

describe('bootstrap administrator', () => {
  it('can sign in on the shared server as a verified ROLE_ADMIN', async () => {
    const login = await call(harness().server.auth, 'login', BOOTSTRAP_ADMIN);
    expect(login.user!.role).to.equal(Role.ROLE_ADMIN);
    expect(login.user!.emailVerified).to.equal(true);
    expect(login.user!.email).to.equal(BOOTSTRAP_ADMIN.email);
  });

  it('is not created again when a second server starts on the same database with the same settings', async function () {
    this.timeout(20_000);
    const countAdmins = async () =>
      Number((await sql<{ count: string }>(`select count(*) from users where role = 'admin'`))[0].count);
    const before = await countAdmins();
    const second = await startTestServer(harness().db, harness().server.env);
    try {
      expect(await countAdmins()).to.equal(before);
      const rows = await sql(`select id from users where email = $1 and role = 'admin'`, [BOOTSTRAP_ADMIN.email]);
      expect(rows).to.have.length(1);
      // Other tests promote users to admin in the shared database, so `before` may exceed 1;
      // what matters is that the second start added no one.
      expect(before).to.be.at.least(1);
      const login = await call(second.auth, 'login', BOOTSTRAP_ADMIN);
      expect(login.user!.id).to.equal(rows[0].id);
    } finally {
      await second.close();
    }
  });
});
