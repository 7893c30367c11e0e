import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Clock } from '../../src/clock.js';
import { AuditEventType } from '../../src/domain/kernel/audit-record.js';
import { inTransaction } from '../../src/domain/kernel/unit-of-work.js';
import { testOperation } from '../helpers/audit.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { DEFAULT_PASSWORD, uniqueEmail } from '../helpers/fixtures.js';
import { retentionJobOn } from '../helpers/retention.js';
import { call, startTestServer, type TestServer } from '../helpers/server.js';

const DAY_SECONDS = 24 * 3600;

describe('Retention: audit events deleted after AUDIT_RETENTION_DAYS', () => {
  let db: TestDatabase;
  let server: TestServer;

  /** SQL on this file's own database (not the shared one). */
  async function query<T extends pg.QueryResultRow = Record<string, unknown>>(
    text: string,
    params: unknown[] = [],
  ): Promise<T[]> {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      return (await client.query<T>(text, params)).rows;
    } finally {
      await client.end();
    }
  }

  async function countEvents(where = 'true', params: unknown[] = []): Promise<number> {
    const [row] = await query<{ n: string }>(`select count(*)::text as n from audit_events where ${where}`, params);
    return Number(row.n);
  }

  /** Writes one event about `subject`, stamped by `clock`, through the domain's unit of work. */
  async function writeEventAt(clock: Clock, subject: string): Promise<void> {
    await inTransaction({ ...testOperation(server.tessera, `retention-${randomUUID()}`), clock }, async (uow) => {
      uow.record({ type: AuditEventType.emailVerificationRequested, subjectUserId: subject });
    });
  }

  /** Registers a user through the server (events stamped by the server's clock); returns its id. */
  async function register(): Promise<string> {
    const res = await call(server.auth, 'register', {
      email: uniqueEmail('retention'),
      password: DEFAULT_PASSWORD,
      fullName: 'Retention',
    });
    return res.user!.id;
  }

  /** The retention job deleting events after `days` (AUDIT_RETENTION_DAYS), not started; runOnce -> events deleted. */
  function retentionJob(days: number) {
    const job = retentionJobOn(server, { auditDays: days });
    return { runOnce: async () => (await job.runOnce())!.audit_events_deleted };
  }

  before(async function () {
    this.timeout(120_000);
    db = await createTestDatabase();
    server = await startTestServer(db, { AUDIT_RETENTION_DAYS: '0' });
  });

  afterEach(() => server.clock.reset());

  after(async function () {
    this.timeout(60_000);
    await server?.close();
    await db?.drop();
  });

  it('deletes events older than the retention period and returns how many went', async () => {
    const oldUser = await register();
    const oldSubject = randomUUID();
    await writeEventAt(server.clock, oldSubject);
    await writeEventAt(server.clock, oldSubject);
    expect(await countEvents('subject_user_id = $1', [oldUser])).to.equal(1);

    const job = retentionJob(30);
    server.clock.advance(31 * DAY_SECONDS);
    // Written "now" on the moved clock: well inside the period.
    const newUser = await register();
    const cutoff = new Date(server.clock.now().getTime() - 30 * DAY_SECONDS * 1000);
    const expectedDeleted = await countEvents('occurred_at < $1', [cutoff]);
    const total = await countEvents();

    const deleted = await job.runOnce();

    expect(deleted).to.be.greaterThanOrEqual(3);
    expect(deleted).to.equal(expectedDeleted);
    // Plus the run's own retention.completed.
    expect(await countEvents()).to.equal(total - deleted + 1);
    expect(await countEvents('subject_user_id = $1', [oldUser])).to.equal(0);
    expect(await countEvents('subject_user_id = $1', [oldSubject])).to.equal(0);
    expect(await countEvents('subject_user_id = $1', [newUser])).to.equal(1);
    expect(await countEvents('occurred_at < $1', [cutoff])).to.equal(0);
    // The accounts themselves are untouched: retention concerns the trail only.
    expect(await query('select id from users where id = $1', [oldUser])).to.have.length(1);

    expect(server.logs.text()).to.include('retention run removed data');
    // Nothing left to delete on a second run.
    expect(await job.runOnce()).to.equal(0);
  });

  it('keeps an event just newer than the cutoff and deletes one just older', async () => {
    const subject = randomUUID();
    const job = retentionJob(30);
    server.clock.advance(90 * DAY_SECONDS);
    const cutoffMs = server.clock.now().getTime() - 30 * DAY_SECONDS * 1000;
    await writeEventAt({ now: () => new Date(cutoffMs - 60_000) }, subject);
    await writeEventAt({ now: () => new Date(cutoffMs + 60_000) }, subject);

    const deleted = await job.runOnce();

    expect(deleted).to.be.greaterThanOrEqual(1);
    const left = await query<{ occurred_at: Date }>('select occurred_at from audit_events where subject_user_id = $1', [subject]);
    expect(left).to.have.length(1);
    expect(left[0].occurred_at.getTime()).to.equal(cutoffMs + 60_000);
  });

  it('deletes in batches until nothing old is left', async function () {
    this.timeout(20_000);
    const subject = randomUUID();
    // More than one batch (10,000) of old-looking rows, inserted directly for speed.
    await query(
      `insert into audit_events (occurred_at, type, actor_type, subject_user_id, metadata)
       select now(), 'email_verification.requested', 'system', $1, jsonb_build_object('seq', g)
         from generate_series(1, 10005) g`,
      [subject],
    );
    const job = retentionJob(30);
    server.clock.advance(31 * DAY_SECONDS);
    const cutoff = new Date(server.clock.now().getTime() - 30 * DAY_SECONDS * 1000);
    const expectedDeleted = await countEvents('occurred_at < $1', [cutoff]);

    const deleted = await job.runOnce();

    expect(deleted).to.equal(expectedDeleted);
    expect(deleted).to.be.greaterThanOrEqual(10005);
    expect(await countEvents('subject_user_id = $1', [subject])).to.equal(0);
  });

  it('deletes nothing with retention 0 (keep forever), however old the events', async () => {
    const subject = randomUUID();
    await writeEventAt(server.clock, subject);
    const total = await countEvents();
    server.clock.advance(10 * 365 * DAY_SECONDS);

    const deleted = await retentionJob(0).runOnce();

    expect(deleted).to.equal(0);
    expect(await countEvents()).to.equal(total);
    expect(await countEvents('subject_user_id = $1', [subject])).to.equal(1);
  });
});
