import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { connectOrm } from '../../src/db/index.js';
import { useCliSandbox } from '../helpers/cli-sandbox.js';
import { findEverywhere } from '../helpers/database-sweep.js';
import { emailIndexOf } from '../helpers/email-index.js';
import { sql } from '../helpers/fixtures.js';
import { runTessera } from '../helpers/process.js';

const clearEmailColumns = `select count(*)::int as n from information_schema.columns
  where table_schema = 'public' and column_name = 'email' and table_name in ('users', 'one_time_tokens', 'social_logins')`;

describe('tessera migrate', function () {
  this.timeout(30_000);
  const sandbox = useCliSandbox();

  it('applies the migrations, then finds nothing to do the second time (exit 0 both times)', async () => {
    const { db, env } = await sandbox.fresh();
    const first = await runTessera(['migrate'], env);
    expect(first.code, first.stderr + first.stdout).to.equal(0);
    expect(first.stdout).to.contain('migrations applied');
    const second = await runTessera(['migrate'], env);
    expect(second.code, second.stderr + second.stdout).to.equal(0);
    expect(second.stdout).to.contain('database already up to date');
    const tables = await sql<{ table_name: string }>(
      `select table_name from information_schema.tables where table_schema = 'public'`,
      [],
      db,
    );
    expect(tables.map((t) => t.table_name)).to.include.members([
      'users',
      'user_profiles',
      'sessions',
      'audit_events',
      'signing_keys',
    ]);
  });

  it('leaves the post-deploy migrations of an existing database to --post-deploy, which seals clear addresses first', async () => {
    const { db, env } = await sandbox.fresh();
    const orm = await connectOrm(db.url, 2);
    try {
      await orm.getMigrator().up({ to: 'Migration20261201170000_refresh_token_history' });
    } finally {
      await orm.close();
    }
    // A provider-only account as the version before the blind index stored it.
    const id = randomUUID();
    const email = `cli.legacy.${id.slice(0, 8)}@example.com`;
    await sql(`insert into users (id, email, created_at, updated_at) values ($1, $2, now(), now())`, [id, email], db);

    const plain = await runTessera(['migrate'], env);
    expect(plain.code, plain.stderr + plain.stdout).to.equal(0);
    expect(plain.stdout).not.to.contain('drop_clear_emails');
    expect((await sql<{ n: number }>(clearEmailColumns, [], db))[0]!.n).to.equal(3);

    const postDeploy = await runTessera(['migrate', '--post-deploy'], env);
    expect(postDeploy.code, postDeploy.stderr + postDeploy.stdout).to.equal(0);
    expect(postDeploy.stdout).to.contain('Migration20261202150000_drop_clear_emails');
    expect((await sql<{ n: number }>(clearEmailColumns, [], db))[0]!.n).to.equal(0);
    const [row] = await sql<{ email_index: string }>('select email_index from users where id = $1', [id], db);
    expect(row!.email_index).to.equal(emailIndexOf(email));
    expect(await findEverywhere(email, db)).to.deep.equal([]);

    const again = await runTessera(['migrate', '--post-deploy'], env);
    expect(again.code, again.stderr + again.stdout).to.equal(0);
    expect(again.stdout).to.contain('database already up to date');
  });

  it('lets processes migrating one database at once take turns: all exit 0, each migration applied once', async function () {
    const { db, env } = await sandbox.fresh();
    // Three processes starting at once on 2 cores: each may take several times its time alone.
    this.timeout(120_000);
    const results = await Promise.all([1, 2, 3].map(() => runTessera(['migrate'], env, { timeoutMs: 100_000 })));
    for (const result of results) expect(result.code, result.stderr + result.stdout).to.equal(0);
    expect(results.filter((r) => r.stdout.includes('migrations applied'))).to.have.length(1);
    const rows = await sql<{ name: string }>('select name from mikro_orm_migrations', [], db);
    expect(new Set(rows.map((r) => r.name)).size).to.equal(rows.length);
  });
});
