import { expect } from 'chai';
import { randomBytes, randomUUID } from 'node:crypto';
import { PasswordHasher } from '../../src/crypto/passwords.js';
import { generateOpaqueSecret, hashBearerSecret } from '../../src/crypto/random.js';
import { connectOrm } from '../../src/db/index.js';
import { findEverywhere } from '../helpers/database-sweep.js';
import { createTestDatabase, migrateTestDatabase, type TestDatabase } from '../helpers/database.js';
import { emailIndexOf } from '../helpers/email-index.js';
import { DEFAULT_PASSWORD, sql } from '../helpers/fixtures.js';
import { bearer, call, startTestServer, type TestServer } from '../helpers/server.js';

/** The last migration before the blind index: the schema of a database written by the previous version. */
const BEFORE_BLIND_INDEX = 'Migration20261201170000_refresh_token_history';
/** The post-deploy migration dropping the emptied clear columns. */
const DROP_CLEAR_EMAILS = 'Migration20261202150000_drop_clear_emails';
/** The post-deploy migration dropping the emptied clear provider subjects (test/compliance/provider-subject-sealing.test.ts). */
const DROP_CLEAR_PROVIDER_SUBJECTS = 'Migration20261202190500_drop_clear_provider_subjects';

/** Rows as the previous version wrote them: addresses in clear in users, one_time_tokens and social_logins. */
async function legacyAccount(db: TestDatabase, pepper: Buffer) {
  const email = `legacy.${randomBytes(5).toString('hex')}@example.com`;
  const providerEmail = `legacy.idp.${randomBytes(5).toString('hex')}@example.net`;
  const hasher = new PasswordHasher({
    memoryKib: 19456,
    timeCost: 2,
    parallelism: 1,
    pepper,
    maxConcurrent: 1,
    queueTimeoutMs: 5000,
  });
  const password = await hasher.hash(DEFAULT_PASSWORD, new AbortController().signal);
  const id = randomUUID();
  await sql(
    `insert into users (id, email, password_hash, password_pepper_id, role, status, created_at, updated_at)
     values ($1, $2, $3, $4, 'user', 'active', now(), now())`,
    [id, email, password.hash, password.pepperId],
    db,
  );
  const verification = generateOpaqueSecret('tev_');
  await sql(
    `insert into one_time_tokens (id, user_id, purpose, token_hash, email, created_at, expires_at)
     values ($1, $2, 'email_verification', $3, $4, now(), now() + interval '1 day')`,
    [randomUUID(), id, hashBearerSecret(verification), email],
    db,
  );
  await sql(
    `insert into social_logins (id, user_id, provider, provider_subject, email, created_at)
     values ($1, $2, 'legacy-idp', $3, $4, now())`,
    [randomUUID(), id, `sub-${randomBytes(4).toString('hex')}`, providerEmail],
    db,
  );
  return { id, email, providerEmail, verification };
}

const CLEAR_EMAIL_TABLES = ['users', 'one_time_tokens', 'social_logins'];

/** The tables of CLEAR_EMAIL_TABLES that still have their clear `email` column. */
async function tablesWithEmailColumn(db: TestDatabase): Promise<string[]> {
  const rows = await sql<{ table_name: string }>(
    `select table_name from information_schema.columns
      where table_schema = 'public' and column_name = 'email' and table_name = any($1) order by table_name`,
    [CLEAR_EMAIL_TABLES],
    db,
  );
  return rows.map((r) => r.table_name);
}

/** The query the previous version's start-up conversion runs first: it must keep working until the post-deploy drop. */
async function previousVersionConversionQuery(db: TestDatabase, table: string) {
  const userId = table === 'users' ? 'id' : 'user_id';
  return sql(`select id, ${userId} as "userId", email from ${table} where email is not null order by id limit 500`, [], db);
}

/**
 * Sign-in by the index (typed as `typed`), the address answered opened, the
 * provider's address too, and the old verification link still proves the address.
 */
async function expectServed(
  server: TestServer,
  account: { id: string; email: string; providerEmail: string; verification: string },
  typed: string,
): Promise<void> {
  const login = await call(server.auth, 'login', { email: typed, password: DEFAULT_PASSWORD });
  expect(login.user!).to.include({ id: account.id, email: account.email });
  const links = await call(server.identity, 'listSocialLogins', { userId: '' }, bearer(login.tokens!.accessToken));
  expect(links.socialLogins.map((l) => l.email)).to.deep.equal([account.providerEmail]);
  const verified = await call(server.auth, 'verifyEmail', { token: account.verification });
  expect(verified.user!).to.include({ email: account.email, emailVerified: true });
}

describe('Addresses stored in clear by the previous version', function () {
  this.timeout(120_000);
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase();
    const orm = await connectOrm(db.url, 2);
    try {
      await orm.getMigrator().up({ to: BEFORE_BLIND_INDEX });
    } finally {
      await orm.close();
    }
  });
  afterEach(() => db.drop());

  it('are sealed at start-up before the service serves: index and ciphertext, clear columns emptied, every flow still works', async () => {
    const pepper = randomBytes(32);
    // Both starts are instances of one deployment: same pepper and master key.
    const env = { TESSERA_PEPPER: pepper.toString('base64'), TESSERA_MASTER_KEY: randomBytes(32).toString('base64') };
    const accounts = [await legacyAccount(db, pepper), await legacyAccount(db, pepper)];

    const server = await startTestServer(db, env);
    try {
      for (const table of CLEAR_EMAIL_TABLES) {
        const [row] = await sql<{ n: number }>(`select count(*)::int as n from ${table} where email is not null`, [], db);
        expect(row!.n, `${table}.email in clear`).to.equal(0);
      }
      for (const account of accounts) {
        for (const value of [account.email, account.providerEmail])
          expect(await findEverywhere(value, db), value).to.deep.equal([]);
        const [row] = await sql<{ email_index: string }>('select email_index from users where id = $1', [account.id], db);
        expect(row!.email_index).to.equal(emailIndexOf(account.email));

        await expectServed(server, account, account.email.toUpperCase());
      }
    } finally {
      await server.close();
    }
    // A second start finds nothing left to convert and serves the same accounts.
    const again = await startTestServer(db, env);
    try {
      const login = await call(again.auth, 'login', { email: accounts[0]!.email, password: DEFAULT_PASSWORD });
      expect(login.user!.id).to.equal(accounts[0]!.id);
    } finally {
      await again.close();
    }
    // The emptied columns stay until the post-deploy migration: an instance of the previous version can still start.
    expect(await tablesWithEmailColumn(db)).to.deep.equal(['one_time_tokens', 'social_logins', 'users']);
    for (const table of CLEAR_EMAIL_TABLES) expect(await previousVersionConversionQuery(db, table)).to.deep.equal([]);
  });

  it('lose their clear columns to the post-deploy migration once sealed, and the service serves without them', async () => {
    const pepper = randomBytes(32);
    const env = { TESSERA_PEPPER: pepper.toString('base64'), TESSERA_MASTER_KEY: randomBytes(32).toString('base64') };
    const account = await legacyAccount(db, pepper);
    await (await startTestServer(db, env)).close();

    // An existing database: `tessera migrate` and `tessera start` leave the post-deploy migration pending.
    expect(await migrateTestDatabase(db)).to.deep.equal([]);
    expect(await tablesWithEmailColumn(db)).to.have.length(3);
    expect(await migrateTestDatabase(db, { postDeploy: true })).to.deep.equal([DROP_CLEAR_EMAILS, DROP_CLEAR_PROVIDER_SUBJECTS]);
    expect(await tablesWithEmailColumn(db)).to.deep.equal([]);

    const server = await startTestServer(db, env);
    try {
      await expectServed(server, account, account.email);
    } finally {
      await server.close();
    }
  });

  it('keep their clear columns when the post-deploy migration finds an address not sealed yet: it refuses and nothing is lost', async () => {
    const account = await legacyAccount(db, randomBytes(32));
    // Migrated but never started: nothing sealed the rows.
    await migrateTestDatabase(db);
    let refusal: unknown;
    await migrateTestDatabase(db, { postDeploy: true }).catch((err: unknown) => (refusal = err));
    expect(String(refusal)).to.match(/addresses in clear remain/);

    expect(await tablesWithEmailColumn(db)).to.have.length(3);
    const [row] = await sql<{ email: string }>('select email from users where id = $1', [account.id], db);
    expect(row!.email).to.equal(account.email);
    const applied = await sql('select name from mikro_orm_migrations where name = $1', [DROP_CLEAR_EMAILS], db);
    expect(applied).to.deep.equal([]);
  });
});

describe('A fresh database', function () {
  this.timeout(60_000);

  it('gets the post-deploy migrations at once: no clear email column exists', async () => {
    const db = await createTestDatabase();
    try {
      expect(await migrateTestDatabase(db)).to.include(DROP_CLEAR_EMAILS);
      expect(await tablesWithEmailColumn(db)).to.deep.equal([]);
    } finally {
      await db.drop();
    }
  });
});
