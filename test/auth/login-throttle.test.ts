import { Metadata, status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { DEFAULT_PASSWORD, registerUser, sqlOn, uniqueEmail } from '../helpers/fixtures.js';
import { startMailTestBed, type MailTestBed } from '../helpers/mail.js';
import { userWithTotp } from '../helpers/mfa.js';
import { outcomesOf, tally } from '../helpers/outcomes.js';
import { expectRpcError, type ErrorDetails } from '../helpers/rpc-errors.js';
import { call, startSiblingServer, type TestServer } from '../helpers/server.js';

const WRONG = 'not the right passphrase';
const LOCK_MS = 1000;
const MAX_LOCK_MS = 3000;
/**
 * Counts that never lapse during a test (an hour's window) and short locks:
 * whether a call is refused depends on the calls before it, not on how fast
 * a loaded machine makes them. Each test calls from its own client address
 * (x-forwarded-for through a trusted proxy), so per-IP counts stay apart.
 */
const ENV = {
  LOGIN_MAX_FAILURES_PER_ACCOUNT: '3',
  LOGIN_MAX_FAILURES_PER_IP: '12',
  LOGIN_FAILURE_WINDOW_SECONDS: '3600',
  LOGIN_LOCK_SECONDS: String(LOCK_MS / 1000),
  LOGIN_LOCK_MAX_SECONDS: String(MAX_LOCK_MS / 1000),
  TRUSTED_PROXIES: '127.0.0.1/32',
};

let nextClient = 1;
/** A client address of its own: 10.9.0.1, 10.9.0.2, ... */
const newClient = () => `10.9.${Math.floor(nextClient / 256)}.${nextClient++ % 256}`;
const from = (ip: string) => {
  const md = new Metadata();
  md.set('x-forwarded-for', ip);
  return md;
};
/** RetryInfo's delay in milliseconds. */
const retryDelayMs = (details: ErrorDetails) => {
  const delay = details.retryInfo?.retryDelay;
  return Number(delay?.seconds ?? 0) * 1000 + (delay?.nanos ?? 0) / 1e6;
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The same limits with the counters in the instance's memory and in Redis (one step per reservation there). */
const STORES: { name: string; env: Record<string, string> }[] = [
  { name: 'memory', env: {} },
  {
    name: 'Redis',
    env: { REDIS_URL: 'redis://127.0.0.1:6379', RATE_LIMIT_KEY_PREFIX: `tessera-test-${randomBytes(6).toString('hex')}` },
  },
];

for (const store of STORES)
  describe(`AuthService.Login: throttling failed attempts (counters in ${store.name})`, () => {
    let server: TestServer;

    before(async () => {
      server = await startSiblingServer({ ...ENV, ...store.env });
    });

    after(() => server.close());

    const login = (email: string, password: string, ip = '10.8.0.1') => call(server.auth, 'login', { email, password }, from(ip));
    const lockedOut = async (email: string, ip?: string) =>
      retryDelayMs(
        await expectRpcError(login(email, DEFAULT_PASSWORD, ip), status.RESOURCE_EXHAUSTED, { reason: 'TOO_MANY_ATTEMPTS' }),
      );

    it('refuses an account after too many failures, even with the right password, with RetryInfo', async () => {
      const ip = newClient();
      const { email, user } = await registerUser({ server });
      for (let i = 0; i < 3; i++)
        await expectRpcError(login(email, WRONG, ip), status.UNAUTHENTICATED, { reason: 'INVALID_CREDENTIALS' });

      expect(await lockedOut(email, ip))
        .to.be.greaterThan(0)
        .and.at.most(LOCK_MS);
      const events = await sqlOn<{ metadata: { reason: string } }>(
        server,
        `select metadata from audit_events where type = 'login.failed' and subject_user_id = $1 order by id`,
        [user.id],
      );
      expect(events.map((e) => e.metadata.reason)).to.deep.equal([
        'wrong_password',
        'wrong_password',
        'wrong_password',
        'too_many_attempts',
      ]);
    });

    it('treats an unknown email exactly like a known one, so throttling reveals nothing', async () => {
      const ip = newClient();
      const ghost = uniqueEmail('ghost');
      for (let i = 0; i < 3; i++)
        await expectRpcError(login(ghost, WRONG, ip), status.UNAUTHENTICATED, { reason: 'INVALID_CREDENTIALS' });
      await expectRpcError(login(ghost, WRONG, ip), status.RESOURCE_EXHAUSTED, { reason: 'TOO_MANY_ATTEMPTS' });
    });

    it('does not hold back other accounts, and lets the account in again once the lock ends', async () => {
      const ip = newClient();
      const throttled = await registerUser({ server });
      const other = await registerUser({ server });
      for (let i = 0; i < 3; i++) await expectRpcError(login(throttled.email, WRONG, ip), status.UNAUTHENTICATED);
      await lockedOut(throttled.email, ip);
      await login(other.email, DEFAULT_PASSWORD, ip);

      await sleep(LOCK_MS + 100);

      const res = await login(throttled.email, DEFAULT_PASSWORD, ip);
      expect(res.user?.id).to.equal(throttled.user.id);
    });

    it('doubles the lock for each further lock of the account within a day, up to the cap', async function () {
      this.timeout(20_000);
      const { email } = await registerUser({ server });
      const delays: number[] = [];
      for (let lock = 0; lock < 3; lock++) {
        for (let i = 0; i < 3; i++) await expectRpcError(login(email, WRONG, newClient()), status.UNAUTHENTICATED);
        const delay = await lockedOut(email, newClient());
        delays.push(delay);
        await sleep(delay + 100);
      }

      expect(delays[0]).to.be.at.most(LOCK_MS);
      expect(delays[1])
        .to.be.greaterThan(LOCK_MS)
        .and.at.most(2 * LOCK_MS);
      // The third would be 4 s: capped at LOGIN_LOCK_MAX_SECONDS.
      expect(delays[2])
        .to.be.greaterThan(2 * LOCK_MS)
        .and.at.most(MAX_LOCK_MS);
    });

    it('clears the count of an account on a successful sign-in', async () => {
      const ip = newClient();
      const { email } = await registerUser({ server });
      for (let i = 0; i < 2; i++) await expectRpcError(login(email, WRONG, ip), status.UNAUTHENTICATED);
      await login(email, DEFAULT_PASSWORD, ip);
      for (let i = 0; i < 2; i++)
        await expectRpcError(login(email, WRONG, ip), status.UNAUTHENTICATED, { reason: 'INVALID_CREDENTIALS' });
      await login(email, DEFAULT_PASSWORD, ip);
    });

    it('refuses a client after too many failures across accounts, and no other client', async () => {
      const ip = newClient();
      for (let i = 0; i < 12; i++) {
        await expectRpcError(login(uniqueEmail('spray'), WRONG, ip), status.UNAUTHENTICATED, { reason: 'INVALID_CREDENTIALS' });
      }
      const { email } = await registerUser({ server });
      await lockedOut(email, ip);
      await login(email, DEFAULT_PASSWORD, newClient());
    });

    it('counts an IPv6 client by its /64', async () => {
      for (let i = 0; i < 12; i++) {
        await expectRpcError(login(uniqueEmail('spray6'), WRONG, `2001:db8:6:1::${i + 1}`), status.UNAUTHENTICATED);
      }
      const { email } = await registerUser({ server });
      await lockedOut(email, '2001:db8:6:1:ffff::99');
      await login(email, DEFAULT_PASSWORD, '2001:db8:6:2::1');
    });

    it('keeps the count when the right password only leads to a second factor', async () => {
      const ip = newClient();
      const user = await userWithTotp(server);
      for (let i = 0; i < 2; i++) await expectRpcError(login(user.email, WRONG, ip), status.UNAUTHENTICATED);
      const passed = await login(user.email, user.password, ip);
      expect(passed.mfaChallenge?.challengeId).to.be.a('string');
      // The right password gave its attempt back without starting the count over: one more failure locks.
      await expectRpcError(login(user.email, WRONG, ip), status.UNAUTHENTICATED, { reason: 'INVALID_CREDENTIALS' });
      await expectRpcError(login(user.email, user.password, ip), status.RESOURCE_EXHAUSTED, { reason: 'TOO_MANY_ATTEMPTS' });
    });

    describe('with locks that outlast the test', () => {
      let locking: TestServer;

      before(async () => {
        locking = await startSiblingServer({ ...ENV, ...store.env, LOGIN_LOCK_SECONDS: '600', LOGIN_LOCK_MAX_SECONDS: '600' });
      });

      after(() => locking.close());

      it('does not count guesses refused for a locked account against the client', async () => {
        const ip = newClient();
        const lockedLogin = (email: string, password: string) => call(locking.auth, 'login', { email, password }, from(ip));
        const { email } = await registerUser({ server: locking });
        for (let i = 0; i < 3; i++) await expectRpcError(lockedLogin(email, WRONG), status.UNAUTHENTICATED);
        // Never checked: 10 more would take the client past its 12 if they counted.
        for (let i = 0; i < 10; i++) {
          await expectRpcError(lockedLogin(email, WRONG), status.RESOURCE_EXHAUSTED, { reason: 'TOO_MANY_ATTEMPTS' });
        }
        const other = await registerUser({ server: locking });
        const res = await lockedLogin(other.email, DEFAULT_PASSWORD);
        expect(res.user?.id).to.equal(other.user.id);
      });
    });
  });

describe('AuthService.Login: the sign-in locked mail', function () {
  this.timeout(60_000);
  let bed: MailTestBed;

  before(async () => {
    bed = await startMailTestBed({ ...ENV, LOGIN_LOCK_SECONDS: '60', PASSWORD_HASH_QUEUE_TIMEOUT_MS: '60000' });
  });

  after(() => bed.close());

  it('tells the owner once per lock, however many guesses were in flight', async () => {
    const { email } = await registerUser({ server: bed.server });

    const outcomes = await outcomesOf(
      Array.from({ length: 20 }, (_, i) => call(bed.server.auth, 'login', { email, password: `${WRONG} ${i}` })),
    );
    expect(tally(outcomes)).to.deep.equal({
      'UNAUTHENTICATED/INVALID_CREDENTIALS': 3,
      'RESOURCE_EXHAUSTED/TOO_MANY_ATTEMPTS': 17,
    });

    const mail = await bed.smtp.waitFor(email);
    await bed.server.tessera.outbox.runOnce();
    expect(bed.smtp.to(email)).to.have.length(1);
    expect(mail.subject).to.equal('Sign-in to your account is paused');
    expect(mail.text).to.not.match(/https?:\/\//);
  });

  it('sends nothing for an unknown address', async () => {
    const ghost = uniqueEmail('ghost');
    for (let i = 0; i < 4; i++) await call(bed.server.auth, 'login', { email: ghost, password: WRONG }).catch(() => undefined);
    await bed.server.tessera.outbox.runOnce();
    expect(bed.smtp.to(ghost)).to.have.length(0);
  });
});
