import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { connectOrm } from '../../src/db/index.js';
import { findEverywhere } from '../helpers/database-sweep.js';
import { createTestDatabase, migrateTestDatabase, type TestDatabase } from '../helpers/database.js';
import { sql } from '../helpers/fixtures.js';
import { TestOidcProvider } from '../helpers/oidc-provider.js';
import { storedLinks, subjectIndexOf } from '../helpers/provider-links.js';
import { bearer, call, startTestServer, type TestServer } from '../helpers/server.js';

/** The last migration before the subject's blind index: the schema of a database written by the previous version. */
const BEFORE_SUBJECT_INDEX = 'Migration20261202150000_drop_clear_emails';
/** The post-deploy migration dropping the emptied clear column. */
const DROP_CLEAR_SUBJECTS = 'Migration20261202190500_drop_clear_provider_subjects';
/** More than one conversion batch (500). */
const LEGACY_LINKS = 501;

async function clearSubjectColumnExists(db: TestDatabase): Promise<boolean> {
  const rows = await sql(
    `select 1 from information_schema.columns
      where table_schema = 'public' and table_name = 'social_logins' and column_name = 'provider_subject'`,
    [],
    db,
  );
  return rows.length === 1;
}

describe('Provider subjects stored in clear by the previous version', function () {
  this.timeout(180_000);
  let db: TestDatabase;
  let provider: TestOidcProvider;
  let env: Record<string, string>;
  /** A run-unique prefix of the legacy subjects: `${prefix}-${n}`. */
  let prefix: string;
  /** The legacy account of each subject, read before any conversion. */
  let userOf: Map<string, string>;

  beforeEach(async () => {
    db = await createTestDatabase();
    const orm = await connectOrm(db.url, 2);
    try {
      await orm.getMigrator().up({ to: BEFORE_SUBJECT_INDEX });
    } finally {
      await orm.close();
    }
    provider = await TestOidcProvider.start();
    // Every start is an instance of one deployment: same pepper and master key.
    env = {
      TESSERA_PEPPER: randomBytes(32).toString('base64'),
      TESSERA_MASTER_KEY: randomBytes(32).toString('base64'),
      OIDC_PROVIDERS: JSON.stringify([provider.config('test-idp')]),
    };
    prefix = `legacy-sub-${randomBytes(5).toString('hex')}`;
    // Provider-only accounts (no password), each linked by a subject in clear, as the previous version wrote them.
    await sql(
      `with u as (
         insert into users (id, email_index, email_verified_at, created_at, updated_at)
         select gen_random_uuid(), md5($1 || n), now(), now(), now() from generate_series(1, $2) n
         returning id, email_index)
       insert into social_logins (id, user_id, provider, provider_subject, created_at)
       select gen_random_uuid(), u.id, 'test-idp', $1 || '-' || n, now()
         from u join generate_series(1, $2) n on u.email_index = md5($1 || n)`,
      [prefix, LEGACY_LINKS],
      db,
    );
    const rows = await sql<{ user_id: string; provider_subject: string }>(
      'select user_id::text as user_id, provider_subject from social_logins',
      [],
      db,
    );
    userOf = new Map(rows.map((r) => [r.provider_subject, r.user_id]));
    expect(userOf.size).to.equal(LEGACY_LINKS);
  });
  afterEach(async () => {
    await provider.close();
    await db.drop();
  });

  it('are sealed at start-up by two instances sharing the work: index and ciphertext, clear column emptied, sign-in still finds them', async () => {
    const servers: TestServer[] = await Promise.all([startTestServer(db, env), startTestServer(db, env)]);
    try {
      const [left] = await sql<{ n: number }>(
        'select count(*)::int as n from social_logins where provider_subject is not null',
        [],
        db,
      );
      expect(left!.n, 'links still in clear').to.equal(0);
      expect(await findEverywhere(prefix, db), 'the clear subjects anywhere').to.deep.equal([]);
      // Each link converted once: the two instances' counts add up to the rows.
      const counts = servers.flatMap((s) =>
        s.logs.lines.map((l) => JSON.parse(l) as { sealedSubjects?: number }).map((l) => l.sealedSubjects ?? 0),
      );
      expect(counts.reduce((a, b) => a + b, 0)).to.equal(LEGACY_LINKS);

      const server = servers[0]!;
      const links = await storedLinks('true', [], server);
      expect(links).to.have.length(LEGACY_LINKS);
      for (const link of links) {
        expect(link.provider_subject_index).to.equal(subjectIndexOf('test-idp', link.subject, server));
        expect(link.provider_subject_ciphertext).to.match(/^v1\./);
      }
      expect(new Map(links.map((l) => [l.subject, l.user_id]))).to.deep.equal(userOf);

      // LoginWithProvider finds the old link by the index; ListSocialLogins answers the subject opened.
      const subject = `${prefix}-7`;
      const login = await call(servers[1]!.auth, 'loginWithProvider', {
        provider: 'test-idp',
        idToken: await provider.idToken(subject),
      });
      expect(login.created).to.equal(false);
      expect(login.user!.id).to.equal(userOf.get(subject));
      const listed = await call(server.identity, 'listSocialLogins', { userId: '' }, bearer(login.tokens!.accessToken));
      expect(listed.socialLogins.map((l) => [l.provider, l.subject])).to.deep.equal([['test-idp', subject]]);
    } finally {
      await Promise.all(servers.map((s) => s.close()));
    }

    // A second start finds nothing left; the emptied column stays until the post-deploy migration.
    const again = await startTestServer(db, env);
    try {
      expect(again.logs.text()).not.to.contain('sealedSubjects');
      const login = await call(again.auth, 'loginWithProvider', {
        provider: 'test-idp',
        idToken: await provider.idToken(`${prefix}-1`),
      });
      expect(login.user!.id).to.equal(userOf.get(`${prefix}-1`));
    } finally {
      await again.close();
    }
    expect(await clearSubjectColumnExists(db)).to.equal(true);
  });

  it('lose the clear column to the post-deploy migration once sealed, and the service serves without it', async () => {
    await (await startTestServer(db, env)).close();

    expect(await migrateTestDatabase(db)).to.deep.equal([]);
    expect(await clearSubjectColumnExists(db)).to.equal(true);
    expect(await migrateTestDatabase(db, { postDeploy: true })).to.deep.equal([DROP_CLEAR_SUBJECTS]);
    expect(await clearSubjectColumnExists(db)).to.equal(false);

    const server = await startTestServer(db, env);
    try {
      const subject = `${prefix}-2`;
      const login = await call(server.auth, 'loginWithProvider', {
        provider: 'test-idp',
        idToken: await provider.idToken(subject),
      });
      expect(login.user!.id).to.equal(userOf.get(subject));
    } finally {
      await server.close();
    }
  });

  it('keep the clear column when the post-deploy migration finds a subject not sealed yet: it refuses and nothing is lost', async () => {
    // Migrated but never started: nothing sealed the rows.
    await migrateTestDatabase(db);
    let refusal: unknown;
    await migrateTestDatabase(db, { postDeploy: true }).catch((err: unknown) => (refusal = err));
    expect(String(refusal)).to.match(/provider subjects in clear remain/);

    expect(await clearSubjectColumnExists(db)).to.equal(true);
    const [row] = await sql<{ n: number }>(
      'select count(*)::int as n from social_logins where provider_subject like $1',
      [`${prefix}-%`],
      db,
    );
    expect(row!.n).to.equal(LEGACY_LINKS);
    expect(await sql('select name from mikro_orm_migrations where name = $1', [DROP_CLEAR_SUBJECTS], db)).to.deep.equal([]);
  });
});
