import { expect } from 'chai';
import { useCliSandbox } from '../helpers/cli-sandbox.js';
import { sql } from '../helpers/fixtures.js';
import { runTessera } from '../helpers/process.js';

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
