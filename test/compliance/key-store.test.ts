import { status, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { complianceClient } from '../helpers/audit.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { adminToken, DEFAULT_PASSWORD, keySql, signedInUser, sql, sqlOn, uniqueEmail } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { retentionJobOn } from '../helpers/retention.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { BOOTSTRAP_ADMIN, bearer, call, startSiblingServer, startTestServer, type TestServer } from '../helpers/server.js';

const DAY_SECONDS = 24 * 3600;

/** Ids of the keys in `server`'s key store whose account is not in its main database. */
async function orphanKeyIds(server: TestServer): Promise<string[]> {
  const keys = await keySql<{ user_id: string }>('select user_id from data_keys', [], server);
  const users = new Set((await sqlOn<{ id: string }>(server, 'select id from users')).map((u) => u.id));
  return keys.map((k) => k.user_id).filter((id) => !users.has(id));
}

describe('The key store (data keys outside the main database)', function () {
  this.timeout(120_000);

  describe('on a server of its own (its clock moves; one administrator)', () => {
    let db: TestDatabase;
    let server: TestServer;
    before(async () => {
      db = await createTestDatabase();
      server = await startTestServer(db);
    });
    after(async () => {
      await server.close();
      await db.drop();
    });

    it("leaves the keys of registrations that rolled back as orphans, pruned a day later, never a live account's key", async () => {
      const email = uniqueEmail('race');
      const outcomes = await Promise.allSettled(
        [1, 2, 3, 4].map(() => call(server.auth, 'register', { email, password: DEFAULT_PASSWORD, fullName: 'Winner Takesall' })),
      );
      const winners = outcomes.filter((o) => o.status === 'fulfilled');
      expect(winners, 'one registration wins').to.have.length(1);
      for (const o of outcomes)
        if (o.status === 'rejected') expect((o.reason as ServiceError).code).to.equal(status.ALREADY_EXISTS);
      const winnerId = winners[0]!.value.user!.id;
      // A loser that got past the address check committed its key before its transaction rolled back.
      const raced = await orphanKeyIds(server);
      expect(raced.length, 'at most one orphan per loser').to.be.at.most(3);
      // One more, for certain: a key whose account never committed.
      const planted = randomUUID();
      await keySql(
        `insert into data_keys (user_id, key_id, wrapped_key, master_key_id, created_at) values ($1, 'k', 'v1.x.y.z.w', 'x', $2)`,
        [planted, server.clock.now()],
        server,
      );
      const job = retentionJobOn(server);

      expect((await job.runOnce())!.orphan_data_keys, 'within the day').to.equal(0);
      expect(await orphanKeyIds(server)).to.have.members([...raced, planted]);

      server.clock.advance(DAY_SECONDS + 3600);
      expect((await job.runOnce())!.orphan_data_keys).to.equal(raced.length + 1);
      expect(await orphanKeyIds(server)).to.deep.equal([]);
      expect(await keySql('select 1 from data_keys where user_id = $1', [winnerId], server), "the winner's key").to.have.length(
        1,
      );
      const { tokens } = await call(server.auth, 'login', { email, password: DEFAULT_PASSWORD });
      const { profile } = await call(server.profile, 'getProfile', { userId: '' }, bearer(tokens!.accessToken));
      expect(profile!.fullName).to.equal('Winner Takesall');
      // The scan remembers where it got: the next run looks at nothing it saw.
      expect((await job.runOnce())!.orphan_data_keys).to.equal(0);
    });

    it('keeps the key of an erasure refused inside its transaction: the key goes only as its last step', async () => {
      // The only administrator erasing their own account: refused (LAST_ADMIN) inside the erasure's transaction.
      const { user, tokens } = await call(server.auth, 'login', BOOTSTRAP_ADMIN);
      const client = complianceClient(server.address);
      try {
        await expectRpcError(
          call(
            client,
            'eraseUser',
            { userId: user!.id, reason: 'gdpr_art17_request', currentPassword: BOOTSTRAP_ADMIN.password },
            bearer(tokens!.accessToken),
          ),
          status.FAILED_PRECONDITION,
          { reason: 'LAST_ADMIN' },
        );
      } finally {
        client.close();
      }
      expect(await keySql('select 1 from data_keys where user_id = $1', [user!.id], server)).to.have.length(1);
      const { profile } = await call(server.profile, 'getProfile', { userId: '' }, bearer(tokens!.accessToken));
      expect(profile!.userId).to.equal(user!.id);
      expect((await call(server.auth, 'login', BOOTSTRAP_ADMIN)).user!.email).to.equal(BOOTSTRAP_ADMIN.email);
    });
  });

  it('keeps a read racing an erasure whole or absent: never an error, and nothing once the erasure answered', async () => {
    const server = harness().server;
    const user = await signedInUser({ fullName: 'Racy Reader' });
    const userId = user.user!.id;
    const admin = await adminToken();
    const client = complianceClient(server.address);
    const seen: string[] = [];
    let erased = false;
    const reads = async () => {
      while (!erased) {
        try {
          const { profile } = await call(server.profile, 'getProfile', { userId }, bearer(admin));
          // Read before the erasure committed: whole, or (between the key's destruction and the commit) shredded.
          seen.push(profile!.fullName === 'Racy Reader' ? 'whole' : profile!.fullName === '' ? 'shredded' : profile!.fullName);
        } catch (err) {
          const e = err as ServiceError;
          seen.push(e.code === status.NOT_FOUND ? 'not_found' : `error ${status[e.code]}`);
        }
      }
    };
    try {
      const readers = [reads(), reads(), reads()];
      await new Promise((resolve) => setTimeout(resolve, 50));
      await call(client, 'eraseUser', { userId, reason: 'gdpr_art17_request', currentPassword: '' }, bearer(admin));
      erased = true;
      await Promise.all(readers);
      expect(
        seen.filter((s) => !['whole', 'shredded', 'not_found'].includes(s)),
        'unexpected answers',
      ).to.deep.equal([]);
      expect(seen).to.include('whole');
      await expectRpcError(call(server.profile, 'getProfile', { userId }, bearer(admin)), status.NOT_FOUND);
      expect(await keySql('select 1 from data_keys where user_id = $1', [userId])).to.have.length(0);
    } finally {
      erased = true;
      client.close();
    }
  });

  it('lets an erasure whose key was destroyed but whose commit failed be retried to completion', async () => {
    const user = await signedInUser({ fullName: 'Half Erased' });
    const userId = user.user!.id;
    // The state such a failure leaves: the key gone from the store, every main-database row still there.
    await keySql('delete from data_keys where user_id = $1', [userId]);
    const client = complianceClient(harness().server.address);
    try {
      const { receipt } = await call(
        client,
        'eraseUser',
        { userId, reason: 'gdpr_art17_request', currentPassword: '' },
        bearer(await adminToken()),
      );
      const counts = decodeJwt(receipt!.jws).counts as Record<string, number>;
      expect(counts).to.include({ accounts: 1, profiles: 1, data_keys: 0 });
      expect(await sql('select 1 from users where id = $1', [userId])).to.have.length(0);
      expect(await sql('select 1 from erasure_receipts where user_id = $1', [userId])).to.have.length(1);
    } finally {
      client.close();
    }
  });

  it('moves keys left in the main database to the key store at start-up, once, with two instances starting together', async () => {
    const user = await signedInUser({ fullName: 'Legacy Keyholder' });
    const userId = user.user!.id;
    // As an earlier version stored it: the key in the main database's user_keys, none in the store.
    const [key] = await keySql<{ key_id: string; wrapped_key: string; master_key_id: string; created_at: Date }>(
      'select key_id, wrapped_key, master_key_id, created_at from data_keys where user_id = $1',
      [userId],
    );
    await sql('insert into user_keys (user_id, key_id, wrapped_key, master_key_id, created_at) values ($1, $2, $3, $4, $5)', [
      userId,
      key!.key_id,
      key!.wrapped_key,
      key!.master_key_id,
      key!.created_at,
    ]);
    await keySql('delete from data_keys where user_id = $1', [userId]);

    const siblings = await Promise.all([startSiblingServer(), startSiblingServer()]);
    try {
      expect(await sql('select 1 from user_keys')).to.have.length(0);
      const moved = await keySql<{ key_id: string; wrapped_key: string }>(
        'select key_id, wrapped_key from data_keys where user_id = $1',
        [userId],
      );
      expect(moved).to.deep.equal([{ key_id: key!.key_id, wrapped_key: key!.wrapped_key }]);
      const { profile } = await call(siblings[0].profile, 'getProfile', { userId: '' }, bearer(user.accessToken));
      expect(profile!.fullName).to.equal('Legacy Keyholder');
    } finally {
      await Promise.all(siblings.map((s) => s.close()));
    }
  });

  it('creates its database when missing, and is reported by readiness and health', async () => {
    const db = await createTestDatabase();
    const keyDatabase = `${new URL(db.url).pathname.slice(1)}_keys`;
    const server = await startTestServer(db);
    const admin = (text: string) => sqlOn(server, text);
    const readyz = async () => {
      const res = await fetch(`http://127.0.0.1:${server.tessera.httpPort}/readyz`);
      return `${res.status} ${(await res.text()).trim()}`;
    };
    try {
      expect(await keySql('select count(*)::int as n from data_keys', [], server)).to.have.length(1);
      expect(await readyz()).to.equal('200 ready');
      // The key store goes away: no new connections, the open ones cut.
      await admin(`alter database "${keyDatabase}" allow_connections false`);
      await admin(`select pg_terminate_backend(pid) from pg_stat_activity where datname = '${keyDatabase}'`);
      await waitFor(async () => (await readyz()) === '503 key store unavailable');
      const metrics = await (await fetch(`http://127.0.0.1:${server.tessera.httpPort}/metrics`)).text();
      expect(metrics).to.match(/^tessera_key_store_up 0$/m);
      expect(metrics).to.match(/^tessera_database_up 1$/m);
      await admin(`alter database "${keyDatabase}" allow_connections true`);
      await waitFor(async () => (await readyz()) === '200 ready');
    } finally {
      await admin(`alter database "${keyDatabase}" allow_connections true`).catch(() => {});
      await server.close();
      await db.drop();
    }
  });
});

/** Polls `check` until it holds (the health check runs every 5 s). */
async function waitFor(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
