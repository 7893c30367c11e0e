import { expect } from 'chai';
import pg from 'pg';
import { RETENTION_JOB_LOCK } from '../../src/jobs/retention.js';
import { useCliSandbox } from '../helpers/cli-sandbox.js';
import type { TestDatabase } from '../helpers/database.js';
import { sql } from '../helpers/fixtures.js';
import { runTessera } from '../helpers/process.js';

/** The "<kind> <count>" lines the command prints. */
function printedCounts(stdout: string): Record<string, number> {
  return Object.fromEntries((stdout.match(/^[a-z_]+ \d+$/gm) ?? []).map((l) => [l.split(' ')[0], Number(l.split(' ')[1])]));
}

describe('tessera retention run', function () {
  this.timeout(60_000);
  const sandbox = useCliSandbox();
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    ({ db, env } = await sandbox.fresh({ MAIL_RETENTION_DAYS: '7' }));
    // Migrates the fresh database; nothing is due yet.
    const first = await runTessera(['retention', 'run'], env);
    expect(first.code, first.stderr).to.equal(0);
    expect(printedCounts(first.stdout)).to.include({ sessions: 0, mail: 0, users_erased: 0, audit_events_scrubbed: 0 });
  });

  it('runs one pass with the configured windows, prints the counts, records retention.completed and exits 0', async () => {
    await sql(
      `insert into email_outbox (id, template, status, attempts, next_attempt_at, created_at, sent_at)
       values (gen_random_uuid(), 'password_changed', 'sent', 1, now() - interval '8 days', now() - interval '8 days', now() - interval '8 days'),
              (gen_random_uuid(), 'password_changed', 'sent', 1, now() - interval '6 days', now() - interval '6 days', now() - interval '6 days')`,
      [],
      db,
    );

    const result = await runTessera(['retention', 'run'], env);

    expect(result.code, result.stderr).to.equal(0);
    expect(printedCounts(result.stdout)).to.include({ mail: 1, sessions: 0, users_erased: 0 });
    expect(await sql('select 1 from email_outbox', [], db), 'the 6-day-old mail stays').to.have.length(1);
    const [event] = await sql<{ actor_type: string; metadata: { mail: number } }>(
      "select actor_type, metadata from audit_events where type = 'retention.completed'",
      [],
      db,
    );
    expect(event.actor_type).to.equal('system');
    expect(event.metadata.mail).to.equal(1);
  });

  it('does nothing and says so (exit 0) while an instance holds the retention lock', async () => {
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('select pg_advisory_lock($1)', [RETENTION_JOB_LOCK]);
      const result = await runTessera(['retention', 'run'], env);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.contain('skipped: another instance is running retention right now');
      expect(printedCounts(result.stdout)).to.deep.equal({});
    } finally {
      await holder.end();
    }
  });

  it('refuses an invalid window as a usage error (exit 2), naming the variable', async () => {
    const result = await runTessera(['retention', 'run'], { ...env, SESSION_RETENTION_DAYS: '0' });
    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain('SESSION_RETENTION_DAYS');
  });
});
