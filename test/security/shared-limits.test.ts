import { status } from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { DEFAULT_PASSWORD, registerUser, uniqueEmail } from '../helpers/fixtures.js';
import { expectLimited, outcomesOf } from '../helpers/outcomes.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { call, startSiblingServer, type TestServer } from '../helpers/server.js';

const MAX_FAILURES = 5;
const WRONG = 'not the right passphrase';

/**
 * Issue 9: with REDIS_URL set, instances of one deployment keep their limit
 * counters in Redis, so an attacker cannot multiply the limit by spreading
 * guesses over the instances behind a load balancer.
 */
describe('Attack: spreading guesses over two instances', function () {
  this.timeout(60_000);
  let a: TestServer;
  let b: TestServer;

  beforeEach(async () => {
    // A prefix of its own per test: counters of other tests and runs stay apart.
    const env = {
      REDIS_URL: 'redis://127.0.0.1:6379',
      RATE_LIMIT_KEY_PREFIX: `tessera-test-${randomBytes(6).toString('hex')}`,
      LOGIN_MAX_FAILURES_PER_ACCOUNT: String(MAX_FAILURES),
      RATE_LIMIT_REGISTER_PER_IP: '10',
      PASSWORD_HASH_QUEUE_TIMEOUT_MS: '60000',
    };
    [a, b] = await Promise.all([startSiblingServer(env), startSiblingServer(env)]);
  });

  afterEach(async () => {
    await Promise.all([a.close(), b.close()]);
  });

  const login = (server: TestServer, email: string, password: string) => call(server.auth, 'login', { email, password });

  it(`locks the account on both instances after ${MAX_FAILURES} failures spread over them`, async () => {
    const { email } = await registerUser({ server: a });
    for (let i = 0; i < MAX_FAILURES; i++) {
      await expectRpcError(login(i % 2 ? b : a, email, WRONG), status.UNAUTHENTICATED, { reason: 'INVALID_CREDENTIALS' });
    }

    for (const server of [a, b]) {
      await expectRpcError(login(server, email, DEFAULT_PASSWORD), status.RESOURCE_EXHAUSTED, { reason: 'TOO_MANY_ATTEMPTS' });
    }
  });

  it(`checks at most ${MAX_FAILURES} of 60 concurrent guesses split over both instances`, async () => {
    const { email } = await registerUser({ server: a });

    const outcomes = await outcomesOf(Array.from({ length: 60 }, (_, i) => login(i % 2 ? b : a, email, `${WRONG} ${i}`)));

    expectLimited(outcomes, 'UNAUTHENTICATED/INVALID_CREDENTIALS', 'RESOURCE_EXHAUSTED/TOO_MANY_ATTEMPTS', MAX_FAILURES);
  });

  it('shares the per-IP Register limit: at most 10 of 50 registrations split over both instances', async () => {
    const outcomes = await outcomesOf(
      Array.from({ length: 50 }, (_, i) =>
        call((i % 2 ? b : a).auth, 'register', { email: uniqueEmail('spread'), password: DEFAULT_PASSWORD, fullName: '' }),
      ),
    );

    expectLimited(outcomes, 'OK', 'RESOURCE_EXHAUSTED/RATE_LIMITED', 10);
  });
});
