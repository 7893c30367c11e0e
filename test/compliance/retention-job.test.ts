import { Metadata, status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { RetentionCounts } from '../../src/domain/compliance/retention.js';
import { RETENTION_JOB_LOCK } from '../../src/jobs/retention.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { adminToken, DEFAULT_PASSWORD, signedInUser, sqlOn, uniqueEmail } from '../helpers/fixtures.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, call, startTestServer, type TestServer } from '../helpers/server.js';

/** SQL intervals relative to the database's now(): just past and just inside the 30- and 90-day windows. */
const PAST_30 = "now() - interval '31 days'";
const INSIDE_30 = "now() - interval '29 days'";

/** What the scenario seeded, by kind: the rows that must go and the rows that must stay. */
interface Seeded {
  gone: string[];
  kept: string[];
}

describe('Retention job: every kind pruned past its window and kept before it', function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let server: TestServer;
  const seeded: Record<'sessions' | 'tokens' | 'challenges' | 'mail' | 'users', Seeded> = {
    sessions: { gone: [], kept: [] },
    challenges: { gone: [], kept: [] },
    tokens: { gone: [], kept: [] },
    mail: { gone: [], kept: [] },
    users: { gone: [], kept: [] },
  };
  /** Audit events made 91 days old (scrubbed) and one kept recent. */
  let oldEventIds: string[] = [];
  let recentEventId: string;
  let eventsBefore: number;
  let counts: RetentionCounts;

  const q = <T extends pg.QueryResultRow = Record<string, unknown>>(text: string, params: unknown[] = []) =>
    sqlOn<T>(server, text, params);
  const ids = async (text: string, params: unknown[] = []) => (await q<{ id: string }>(text, params)).map((r) => String(r.id));
  const countEvents = async () => Number((await q<{ n: string }>('select count(*)::text as n from audit_events'))[0].n);

  async function seedSessions(): Promise<void> {
    const user = await signedInUser({ server });
    for (let i = 0; i < 3; i++) await call(server.auth, 'login', { email: user.email, password: user.password });
    const [revokedLongAgo, revokedRecently, expiredLongAgo, live] = await ids(
      'select id from sessions where user_id = $1 order by created_at',
      [user.user!.id],
    );
    await q(`update sessions set revoked_at = ${PAST_30}, revoke_reason = 'logout' where id = $1`, [revokedLongAgo]);
    await q(`update sessions set revoked_at = ${INSIDE_30}, revoke_reason = 'logout' where id = $1`, [revokedRecently]);
    await q(`update sessions set expires_at = ${PAST_30} where id = $1`, [expiredLongAgo]);
    seeded.sessions = { gone: [revokedLongAgo, expiredLongAgo], kept: [revokedRecently, live] };
  }

  async function seedTokens(): Promise<void> {
    const { user } = await signedInUser({ server });
    const insert = async (expiresAt: string, consumedAt: string) =>
      (
        await ids(
          `insert into one_time_tokens (id, user_id, purpose, token_hash, email_index, created_at, expires_at, consumed_at)
           values (gen_random_uuid(), $1, 'password_reset', md5(random()::text), md5(random()::text),
                   now() - interval '40 days', ${expiresAt}, ${consumedAt}) returning id`,
          [user!.id],
        )
      )[0];
    seeded.tokens = {
      gone: [await insert(PAST_30, 'null'), await insert(INSIDE_30, PAST_30)],
      kept: [await insert(INSIDE_30, 'null'), await insert("now() + interval '1 hour'", 'null')],
    };
  }

  async function seedChallenges(): Promise<void> {
    const { user } = await signedInUser({ server });
    const insert = async (expiresAt: string, usedAt: string) =>
      (
        await ids(
          `insert into mfa_challenges (id, challenge_hash, user_id, method, first_factor_amr, created_at, expires_at, used_at)
           values (gen_random_uuid(), md5(random()::text), $1, 'password', '["pwd"]', now() - interval '40 days',
                   ${expiresAt}, ${usedAt}) returning id`,
          [user!.id],
        )
      )[0];
    seeded.challenges = {
      gone: [await insert(PAST_30, 'null'), await insert(INSIDE_30, PAST_30)],
      kept: [await insert(INSIDE_30, 'null'), await insert("now() + interval '5 minutes'", 'null')],
    };
  }

  async function seedMail(): Promise<void> {
    const insert = async (status: string, nextAttemptAt: string, sentAt: string) =>
      (
        await ids(
          `insert into email_outbox (id, template, payload_ciphertext, status, attempts, next_attempt_at, created_at, sent_at)
           values (gen_random_uuid(), 'password_changed', null, $1, 1, ${nextAttemptAt}, now() - interval '40 days', ${sentAt})
           returning id`,
          [status],
        )
      )[0];
    seeded.mail = {
      gone: [await insert('sent', PAST_30, PAST_30), await insert('failed', PAST_30, 'null')],
      // Sent recently; and undelivered (due tomorrow) however old: pending mail is never pruned.
      kept: [await insert('sent', PAST_30, INSIDE_30), await insert('pending', "now() + interval '1 day'", 'null')],
    };
  }

  async function seedDeletedUsers(): Promise<void> {
    const admin = bearer(await adminToken(server));
    const deleted: string[] = [];
    for (let i = 0; i < 2; i++) {
      const { user } = await signedInUser({ server });
      await call(server.identity, 'deleteUser', { userId: user!.id }, admin);
      deleted.push(user!.id);
    }
    await q(`update users set deleted_at = ${PAST_30} where id = $1`, [deleted[0]]);
    await q(`update users set deleted_at = ${INSIDE_30} where id = $1`, [deleted[1]]);
    seeded.users = { gone: [deleted[0]], kept: [deleted[1]] };
  }

  /** Ages every event of one user and a clear-text one by 91 days; returns a recent event of that user. */
  async function seedAuditEvents(): Promise<void> {
    const user = await signedInUser({ server, fullName: 'Old Trail' });
    const md = new Metadata();
    const requestId = `retention-${randomUUID()}`;
    md.set('x-request-id', requestId);
    // An unknown address: the failure has no subject, so its ip and agent are stored in clear.
    await expectRpcError(
      call(server.auth, 'login', { email: uniqueEmail('nobody'), password: DEFAULT_PASSWORD }, md),
      status.UNAUTHENTICATED,
    );
    const [legacy] = await ids(
      `insert into audit_events (occurred_at, type, actor_type, subject_user_id, ip, user_agent, metadata)
       values (now(), 'social_login.linked', 'user', $1, '203.0.113.7', 'Legacy/1.0',
               '{"provider":"acme","subject":"acme-123","email":"legacy@example.com"}') returning id`,
      [user.user!.id],
    );
    oldEventIds = await ids(
      `update audit_events set occurred_at = now() - interval '91 days'
        where subject_user_id = $1 or request_id = $2 returning id`,
      [user.user!.id, requestId],
    );
    expect(oldEventIds).to.include(legacy).and.have.length.greaterThan(3);
    await call(server.auth, 'login', { email: user.email, password: user.password });
    [recentEventId] = await ids(
      "select id from audit_events where subject_user_id = $1 and type = 'login.succeeded' order by id desc limit 1",
      [user.user!.id],
    );
  }

  before(async () => {
    db = await createTestDatabase();
    server = await startTestServer(db);
    await seedSessions();
    await seedTokens();
    await seedChallenges();
    await seedMail();
    await seedDeletedUsers();
    await seedAuditEvents();
    eventsBefore = await countEvents();
    counts = (await server.tessera.retention.runOnce())!;
  });

  after(async () => {
    await server?.close();
    await db?.drop();
  });

  it('deletes sessions ended (revoked or expired) more than SESSION_RETENTION_DAYS ago, keeps the others', async () => {
    expect(counts.sessions).to.equal(2);
    expect(await ids('select id from sessions where id = any($1)', [seeded.sessions.gone])).to.deep.equal([]);
    expect(await ids('select id from sessions where id = any($1)', [seeded.sessions.kept])).to.have.members(seeded.sessions.kept);
  });

  it('deletes one-time tokens used or expired more than ONE_TIME_TOKEN_RETENTION_DAYS ago, keeps the others', async () => {
    expect(counts.one_time_tokens).to.equal(2);
    expect(await ids('select id from one_time_tokens where id = any($1)', [seeded.tokens.gone])).to.deep.equal([]);
    expect(await ids('select id from one_time_tokens where id = any($1)', [seeded.tokens.kept])).to.have.members(
      seeded.tokens.kept,
    );
  });

  it('deletes MFA challenges used or expired more than ONE_TIME_TOKEN_RETENTION_DAYS ago, keeps the others', async () => {
    expect(counts.mfa_challenges).to.equal(2);
    expect(await ids('select id from mfa_challenges where id = any($1)', [seeded.challenges.gone])).to.deep.equal([]);
    expect(await ids('select id from mfa_challenges where id = any($1)', [seeded.challenges.kept])).to.have.members(
      seeded.challenges.kept,
    );
  });

  it('deletes mail delivered or given up more than MAIL_RETENTION_DAYS ago, never undelivered mail', async () => {
    expect(counts.mail).to.equal(2);
    expect(await ids('select id from email_outbox where id = any($1)', [seeded.mail.gone])).to.deep.equal([]);
    expect(await ids('select id from email_outbox where id = any($1)', [seeded.mail.kept])).to.have.members(seeded.mail.kept);
  });

  it('erases soft-deleted accounts past USER_DELETE_RETENTION_DAYS (with a receipt), keeps those inside it', async () => {
    expect(counts.users_erased).to.equal(1);
    expect(await ids('select id from users where id = any($1)', [seeded.users.gone])).to.deep.equal([]);
    expect(await ids('select user_id as id from erasure_receipts')).to.deep.equal(seeded.users.gone);
    expect(await ids('select id from users where id = any($1)', [seeded.users.kept])).to.deep.equal(seeded.users.kept);
  });

  it('blanks ip, user agent and personal metadata of events older than AUDIT_PII_RETENTION_DAYS, keeping every event', async () => {
    expect(counts.audit_events_scrubbed).to.equal(oldEventIds.length);
    // The run added user.erased and retention.completed; it removed none.
    expect(await countEvents()).to.equal(eventsBefore + 2);
    const old = await q<{ id: string; type: string; ip: string | null; user_agent: string | null; metadata: object }>(
      'select id::text, type, ip, user_agent, metadata from audit_events where id = any($1)',
      [oldEventIds],
    );
    expect(old.map((r) => r.id)).to.have.members(oldEventIds);
    for (const row of old) {
      expect(row, row.type).to.include({ ip: null, user_agent: null });
      expect(row.metadata, row.type).to.not.have.any.keys('sealed', 'subject', 'email');
    }
    // Non-personal metadata stays.
    expect(old.find((r) => r.type === 'social_login.linked')!.metadata).to.deep.equal({ provider: 'acme' });
    expect(old.map((r) => r.type)).to.include.members(['user.registered', 'login.succeeded', 'login.failed']);
    const [recent] = await q<{ ip: string }>('select ip from audit_events where id = $1', [recentEventId]);
    expect(recent.ip, 'a recent event keeps its (sealed) ip').to.match(/^v1\./);
  });

  it('records one retention.completed event with the counts and nothing personal; a run that removes nothing records none', async () => {
    const events = await q<{ actor_type: string; subject_user_id: string | null; ip: string | null; metadata: object }>(
      "select actor_type, subject_user_id, ip, metadata from audit_events where type = 'retention.completed'",
    );
    expect(events).to.have.length(1);
    expect(events[0]).to.include({ actor_type: 'system', subject_user_id: null, ip: null });
    expect(events[0].metadata).to.deep.equal({
      sessions: 2,
      one_time_tokens: 2,
      mail: 2,
      users_erased: 1,
      audit_events_scrubbed: oldEventIds.length,
      audit_events_deleted: 0,
    });

    const again = (await server.tessera.retention.runOnce())!;
    expect(again).to.include({ sessions: 0, one_time_tokens: 0, mail: 0, users_erased: 0, audit_events_scrubbed: 0 });
    expect(await q("select 1 from audit_events where type = 'retention.completed'")).to.have.length(1);
  });

  it('exposes counts per kind, the last run time and the run duration on /metrics', async () => {
    const res = await fetch(`http://127.0.0.1:${server.tessera.httpPort}/metrics`);
    const body = await res.text();
    const value = (series: string) => {
      const line = body.split('\n').find((l) => l.startsWith(`${series} `));
      expect(line, series).to.be.a('string');
      return Number(line!.split(' ')[1]);
    };
    expect(value('tessera_retention_removed_total{kind="sessions"}')).to.equal(2);
    expect(value('tessera_retention_removed_total{kind="one_time_tokens"}')).to.equal(2);
    expect(value('tessera_retention_removed_total{kind="mail"}')).to.equal(2);
    expect(value('tessera_retention_removed_total{kind="users_erased"}')).to.equal(1);
    expect(value('tessera_retention_removed_total{kind="audit_events_scrubbed"}')).to.equal(oldEventIds.length);
    // The start-up run, the scenario's and the previous test's.
    expect(value('tessera_retention_runs_total{outcome="completed"}')).to.be.at.least(2);
    expect(value('tessera_retention_run_duration_seconds_count')).to.be.at.least(2);
    const lastRun = value('tessera_retention_last_run_timestamp_seconds');
    expect(lastRun).to.be.within(Date.now() / 1000 - 60, Date.now() / 1000 + 1);
  });

  describe('with two instances on the same database', () => {
    let sibling: TestServer;

    before(async () => {
      sibling = await startTestServer(db, {
        TESSERA_PEPPER: server.env.TESSERA_PEPPER,
        TESSERA_MASTER_KEY: server.env.TESSERA_MASTER_KEY,
      });
    });

    after(async () => {
      await sibling?.close();
    });

    it('runs on neither while another holder has the lock, and on exactly one of two concurrent runs', async () => {
      const holder = new pg.Client({ connectionString: db.url });
      await holder.connect();
      try {
        await holder.query('select pg_advisory_lock($1)', [RETENTION_JOB_LOCK]);
        const whileHeld = await Promise.all([server.tessera.retention.runOnce(), sibling.tessera.retention.runOnce()]);
        expect(whileHeld, 'both skip').to.deep.equal([null, null]);
      } finally {
        await holder.end();
      }

      await seedSessions();
      const results = await Promise.all([server.tessera.retention.runOnce(), sibling.tessera.retention.runOnce()]);
      const ran = results.filter((r) => r !== null);
      expect(ran.length, 'at least one ran').to.be.at.least(1);
      expect(
        ran.reduce((sum, r) => sum + r.sessions, 0),
        'each session removed once',
      ).to.equal(2);
      expect(await ids('select id from sessions where id = any($1)', [seeded.sessions.gone])).to.deep.equal([]);
    });
  });
});
