import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { DEFAULT_PASSWORD, registerUser, signedInUser, sqlOn, uniqueEmail } from '../helpers/fixtures.js';
import { PrivateRedis } from '../helpers/redis.js';
import { eventually } from '../helpers/eventually.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, call, startSiblingServer, type TestServer } from '../helpers/server.js';

const WRONG = 'not the right passphrase';

/** How long a promise took to settle, in ms, and what it gave. */
async function timed<T>(promise: Promise<T>): Promise<{ ms: number; result: T }> {
  const started = Date.now();
  const result = await promise;
  return { ms: Date.now() - started, result };
}

describe('Rate limit counters when Redis fails while serving', function () {
  this.timeout(60_000);
  let redis: PrivateRedis;
  let server: TestServer;

  const opsGet = (path: string) => fetch(`http://127.0.0.1:${server.tessera.httpPort}${path}`);
  const metric = async (name: string) =>
    Number((await (await opsGet('/metrics')).text()).match(new RegExp(`^${name} (\\d+)$`, 'm'))?.[1]);
  const login = (email: string, password: string) => call(server.auth, 'login', { email, password });
  const shared = async () => (await metric('tessera_rate_limit_store_shared')) === 1;
  /** Whether a sign-in gets tokens now (false while it is refused, e.g. UNAVAILABLE). */
  const signsIn = (email: string, password: string) =>
    login(email, password).then(
      (res) => Boolean(res.tokens),
      () => false,
    );

  before(async () => {
    redis = await PrivateRedis.start();
    server = await startSiblingServer({
      REDIS_URL: redis.url,
      RATE_LIMIT_KEY_PREFIX: `tessera-outage-${process.pid}`,
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '3',
    });
  });

  // Every test starts with Redis up and the counters shared again.
  afterEach(async () => {
    redis.resume();
    await redis.restart().catch(() => {});
    await eventually('counters shared again', shared, 15_000);
  });

  after(async () => {
    await server?.close();
    await redis?.stop();
  });

  it('refuses guessed calls with UNAVAILABLE within a second while Redis is down, and never checks the guess', async () => {
    const { email } = await registerUser({ server });
    await redis.kill();

    const right = await timed(
      expectRpcError(login(email, DEFAULT_PASSWORD), status.UNAVAILABLE, { reason: 'RATE_LIMITS_UNAVAILABLE' }),
    );
    expect(right.ms, 'answered fast, not at the deadline').to.be.below(1000);
    // Far more guesses than the account's 3: none is checked, so none can tell a right password from a wrong one.
    const guesses = await timed(
      Promise.all(
        Array.from({ length: 20 }, () =>
          expectRpcError(login(email, WRONG), status.UNAVAILABLE, { reason: 'RATE_LIMITS_UNAVAILABLE' }),
        ),
      ),
    );
    // Each still reads the account first: the slack is for a loaded 2-core machine (about 0.5 s alone).
    expect(guesses.ms, '20 concurrent guesses refused at once').to.be.below(2500);
    expect(await metric('tessera_rate_limit_store_shared')).to.equal(0);
    expect(await metric('tessera_rate_limit_unavailable_total')).to.be.at.least(21);
    expect(server.logs.text()).to.not.contain(email);
    expect(server.logs.text()).to.not.contain(WRONG);
  });

  it('keeps serving what needs no guess count while Redis is down: tokens, profiles, and locally counted registrations', async () => {
    const user = await signedInUser({ server });
    await redis.kill();

    const profile = await timed(call(server.profile, 'getProfile', { userId: '' }, bearer(user.accessToken)));
    expect(profile.result.profile?.userId).to.equal(user.user!.id);
    const introspection = await timed(call(server.auth, 'introspectToken', { token: user.accessToken }));
    expect(introspection.result.active).to.equal(true);
    const refreshed = await call(server.auth, 'refreshToken', { refreshToken: user.refreshToken });
    expect(refreshed.tokens?.accessToken).to.be.a('string');
    // Register's per-client limit is a capacity guard, not a secret's: it counts in memory meanwhile.
    await registerUser({ server, email: uniqueEmail('during-outage') });
    expect(await metric('tessera_rate_limit_fallbacks_total')).to.be.greaterThan(0);
    expect(profile.ms + introspection.ms).to.be.below(1000);
  });

  it('reports the outage on /readyz and in the log, without taking the instance out of rotation', async () => {
    await redis.kill();
    await eventually('Redis reported down', async () => !(await shared()), 5000);
    const ready = await opsGet('/readyz');
    expect(ready.status, 'every instance shares the Redis: failing them all would stop the reads too').to.equal(200);
    expect(await ready.text()).to.contain('rate limit store unreachable');
    expect(server.logs.text()).to.contain('rate limits: Redis unreachable');
  });

  it('recovers by itself when Redis comes back on the same port', async () => {
    const { email } = await registerUser({ server });
    await redis.kill();
    await expectRpcError(login(email, DEFAULT_PASSWORD), status.UNAVAILABLE);

    await redis.restart();
    const ms = await eventually('sign-in works again', () => signsIn(email, DEFAULT_PASSWORD), 10_000);
    expect(ms, 'reconnects within the retry back-off').to.be.below(8000);
    expect(await shared()).to.equal(true);
    expect(await (await opsGet('/readyz')).text()).to.equal('ready\n');
    // The counters are Redis' again: the account's limit holds across the instance.
    for (let i = 0; i < 3; i++) await expectRpcError(login(email, WRONG), status.UNAUTHENTICATED);
    await expectRpcError(login(email, DEFAULT_PASSWORD), status.RESOURCE_EXHAUSTED, { reason: 'TOO_MANY_ATTEMPTS' });
  });

  it('answers UNAVAILABLE within about a second when Redis hangs (SIGSTOP), then at once, and recovers when it resumes', async () => {
    const user = await signedInUser({ server });
    redis.pause();

    const first = await timed(
      expectRpcError(login(user.email, DEFAULT_PASSWORD), status.UNAVAILABLE, { reason: 'RATE_LIMITS_UNAVAILABLE' }),
    );
    expect(first.ms, 'bounded by the 1 s command timeout').to.be.below(2500);
    // The timed-out connection is dropped, so the next calls do not each wait for the hung one.
    const next = await timed(
      Promise.all(Array.from({ length: 5 }, () => expectRpcError(login(user.email, WRONG), status.UNAVAILABLE))),
    );
    expect(next.ms, 'no longer waiting for the hung Redis').to.be.below(1000);
    const profile = await timed(call(server.profile, 'getProfile', { userId: '' }, bearer(user.accessToken)));
    expect(profile.ms).to.be.below(1000);

    redis.resume();
    await eventually('sign-in works again', () => signsIn(user.email, DEFAULT_PASSWORD), 10_000);
  });
});

describe('A guess in flight when Redis fails', function () {
  this.timeout(120_000);
  let redis: PrivateRedis;
  let server: TestServer;

  before(async () => {
    redis = await PrivateRedis.start();
    server = await startSiblingServer({
      REDIS_URL: redis.url,
      RATE_LIMIT_KEY_PREFIX: `tessera-in-flight-${process.pid}`,
      // The first wrong password locks, so its failure must write the lock.
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '1',
      // A slow hash (about 1 s alone): Redis dies after the guess is counted and before it is settled.
      ARGON2_TIME_COST: '100',
    });
  });

  afterEach(async () => {
    await redis.restart().catch(() => {});
  });

  after(async () => {
    await server?.close();
    await redis?.stop();
  });

  /** Starts `attempt`, and kills Redis while its password is being checked. */
  async function killRedisDuring<T>(attempt: () => Promise<T>): Promise<T> {
    const pending = attempt();
    await new Promise((resolve) => setTimeout(resolve, 400));
    await redis.kill();
    return pending;
  }

  it('still signs in with the right password, counted before Redis went away', async () => {
    const { email } = await registerUser({ server });
    const res = await killRedisDuring(() => call(server.auth, 'login', { email, password: DEFAULT_PASSWORD }));
    expect(res.tokens?.accessToken).to.be.a('string');
  });

  it('still answers a wrong password as wrong, and audits it, when the lock it earned cannot be written', async () => {
    const { email, user } = await registerUser({ server });
    await killRedisDuring(() =>
      expectRpcError(call(server.auth, 'login', { email, password: WRONG }), status.UNAUTHENTICATED, {
        reason: 'INVALID_CREDENTIALS',
      }),
    );
    const events = await sqlOn<{ type: string }>(server, `select type from audit_events where subject_user_id = $1`, [user.id]);
    expect(events.map((e) => e.type)).to.include('login.failed');
    // Redis is down: the next guess is refused unchecked, whatever the lock's fate.
    await expectRpcError(call(server.auth, 'login', { email, password: DEFAULT_PASSWORD }), status.UNAVAILABLE);
  });
});
