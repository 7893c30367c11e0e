import { Metadata } from '@grpc/grpc-js';
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { auditEventsOfRequest, registerUser, sqlOn } from '../helpers/fixtures.js';
import { outcomesOf, tally } from '../helpers/outcomes.js';
import { call, startSiblingServer, type TestServer } from '../helpers/server.js';

const LOGINS = 30;
/** The shared deadline, in hash durations: it passes while the queue is still long. */
const DEADLINE_IN_HASHES = 8;

/**
 * Issue 9: a Login whose deadline passes while it waits in the password-hash
 * queue must not go on to open a session once its turn comes. Today the
 * waiters still queued at the deadline are dropped, but the one whose turn
 * came just before it runs to the end and opens a session the client never
 * receives.
 */
describe('Attack: Logins that outlive their deadline in the hash queue', function () {
  this.timeout(60_000);
  let server: TestServer;

  before(async () => {
    server = await startSiblingServer({
      // One hash at a time, and a queue that waits rather than turning calls away.
      PASSWORD_HASH_CONCURRENCY: '1',
      PASSWORD_HASH_QUEUE_TIMEOUT_MS: '60000',
    });
  });

  after(() => server.close());

  it('opens a session for exactly the Logins answered OK, none for those past their deadline', async () => {
    const users = [];
    for (let i = 0; i < LOGINS; i++) users.push(await registerUser({ server }));
    const started = Date.now();
    await call(server.auth, 'login', { email: users[0].email, password: users[0].password });
    const hashMs = Date.now() - started;
    await sqlOn(server, 'delete from sessions where user_id = $1', [users[0].user.id]);

    // Every call of the burst shares one deadline; the queue holds them in order.
    const deadline = Date.now() + DEADLINE_IN_HASHES * hashMs;
    const requestIds = users.map(() => randomUUID());
    const outcomes = await outcomesOf(
      users.map((u, i) => {
        const metadata = new Metadata();
        metadata.set('x-request-id', requestIds[i]);
        return call(server.auth, 'login', { email: u.email, password: u.password }, metadata, { deadline });
      }),
    );
    // Give an abandoned call the time it would need to finish, had it been run.
    await new Promise((resolve) => setTimeout(resolve, 1000 + 2 * hashMs));

    const counts = tally(outcomes);
    expect(
      counts.DEADLINE_EXCEEDED ?? 0,
      `the deadline passed with calls still queued: ${JSON.stringify(counts)}`,
    ).to.be.greaterThan(0);
    for (const [i, outcome] of outcomes.entries()) {
      if (outcome.ok) continue;
      const types = (await auditEventsOfRequest(requestIds[i], server)).map((e) => e.type);
      const [{ sessions }] = await sqlOn<{ sessions: number }>(
        server,
        'select count(*)::int as sessions from sessions where user_id = $1',
        [users[i].user.id],
      );
      expect({ call: i, outcome: outcome.label, types, sessions }, 'a call answered with an error').to.deep.equal({
        call: i,
        outcome: outcome.label,
        types: types.filter((t) => t !== 'login.succeeded'),
        sessions: 0,
      });
    }
  });
});
