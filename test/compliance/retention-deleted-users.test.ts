import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { adminToken, keySql, signedInUser, sqlOn } from '../helpers/fixtures.js';
import { retentionJobOn } from '../helpers/retention.js';
import { bearer, call, startTestServer, type TestServer } from '../helpers/server.js';

const DAY_SECONDS = 24 * 3600;

describe('Retention: soft-deleted accounts are erased after USER_DELETE_RETENTION_DAYS', function () {
  this.timeout(30_000);
  let db: TestDatabase;
  let server: TestServer;

  before(async () => {
    db = await createTestDatabase();
    server = await startTestServer(db, { USER_DELETE_RETENTION_DAYS: '7' });
  });

  after(async () => {
    await server.close();
    await db.drop();
  });

  it('erases a deleted account past the window and not before, and one instance at a time', async () => {
    const user = await signedInUser({ server, fullName: 'Soon Forgotten' });
    const userId = user.user!.id;
    await call(server.identity, 'deleteUser', { userId }, bearer(await adminToken(server)));
    const job = retentionJobOn(server, { userDeleteDays: 7 });

    server.clock.advance(6 * DAY_SECONDS);
    expect((await job.runOnce())?.users_erased, 'inside the window').to.equal(0);
    expect(await sqlOn(server, 'select 1 from users where id = $1', [userId])).to.have.length(1);

    server.clock.advance(2 * DAY_SECONDS);
    const [first, second] = await Promise.all([job.runOnce(), job.runOnce()]);
    expect((first?.users_erased ?? 0) + (second?.users_erased ?? 0), 'erased once, by one runner').to.equal(1);

    expect(await sqlOn(server, 'select 1 from users where id = $1', [userId])).to.have.length(0);
    expect(await keySql('select 1 from data_keys where user_id = $1', [userId], server)).to.have.length(0);
    expect(await sqlOn(server, 'select 1 from erasure_receipts where user_id = $1', [userId])).to.have.length(1);
    const [event] = await sqlOn<{ actor_type: string; metadata: { reason: string } }>(
      server,
      "select actor_type, metadata from audit_events where subject_user_id = $1 and type = 'user.erased'",
      [userId],
    );
    expect(event.actor_type).to.equal('system');
    expect(event.metadata.reason).to.equal('retention_expired');
  });
});
