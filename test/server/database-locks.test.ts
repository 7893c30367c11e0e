import { status, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import pg from 'pg';
import { DATABASE_LOCK_TIMEOUT_MS } from '../../src/db/orm.js';
import { signedInUser } from '../helpers/fixtures.js';
import { decodeDetails } from '../helpers/rpc-errors.js';
import { bearer, call, startSiblingServer, type TestServer } from '../helpers/server.js';

/** More calls than the ORM's pool has connections (10): each waiting one holds a connection. */
const BLOCKED_CALLS = 12;

describe('A row locked outside Tessera (a stuck transaction, a manual session)', function () {
  this.timeout(60_000);
  let server: TestServer;
  let holder: pg.Client;

  before(async () => {
    server = await startSiblingServer();
  });

  beforeEach(async () => {
    holder = new pg.Client({ connectionString: server.env.DATABASE_URL });
    await holder.connect();
  });

  afterEach(async () => {
    await holder.query('rollback');
    await holder.end();
  });

  after(() => server.close());

  it('fails the calls waiting for it within the lock timeout, never stalls unrelated calls, and recovers', async () => {
    // Two accounts: a third of the calls per account stays below its guess limit (10 in flight).
    const locked = [await signedInUser({ server }), await signedInUser({ server })];
    const other = await signedInUser({ server });
    await holder.query('begin');
    await holder.query('select 1 from users where id = any($1) for update', [locked.map((u) => u.user!.id)]);

    const started = Date.now();
    const waiting = Array.from({ length: BLOCKED_CALLS }, (_, i) =>
      call(server.auth, 'login', { email: locked[i % 2].email, password: locked[i % 2].password }).then(
        () => undefined,
        (err: ServiceError) => err,
      ),
    );
    // Let them reach the locked rows.
    await new Promise((resolve) => setTimeout(resolve, 500));

    const profileStarted = Date.now();
    const profile = await call(server.profile, 'getProfile', { userId: '' }, bearer(other.accessToken));
    expect(profile.profile?.userId).to.equal(other.user!.id);
    expect(Date.now() - profileStarted, 'waited at most for the lock timeout').to.be.below(DATABASE_LOCK_TIMEOUT_MS + 1500);

    const outcomes = await Promise.all(waiting);
    // They reach the rows in rounds (the pool's connections), each round waiting one lock timeout.
    expect(Date.now() - started, 'none waited for the lock to be released').to.be.below(5 * DATABASE_LOCK_TIMEOUT_MS);
    for (const err of outcomes) {
      expect(err, 'a sign-in went through a locked row').to.not.equal(undefined);
      expect(status[err!.code]).to.equal('UNAVAILABLE');
      expect(decodeDetails(err!).errorInfo?.reason).to.equal('DATABASE_BUSY');
    }
    expect(server.logs.text()).to.not.contain(locked[0].password);

    await holder.query('rollback');
    const again = await call(server.auth, 'login', { email: locked[0].email, password: locked[0].password });
    expect(again.tokens?.accessToken).to.be.a('string');
  });
});
