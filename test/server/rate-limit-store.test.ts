import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { DEFAULT_PASSWORD, registerUser, uniqueEmail } from '../helpers/fixtures.js';
import { PrivateRedis } from '../helpers/redis.js';
import { freePort } from '../helpers/process.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { call, startSiblingServer, type TestServer } from '../helpers/server.js';

const WRONG = 'not the right passphrase';

describe('Rate limit counters when Redis cannot be reached at start-up', function () {
  this.timeout(30_000);
  let server: TestServer;
  let redisPort: number;

  before(async () => {
    redisPort = await freePort();
    server = await startSiblingServer({
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      RATE_LIMIT_REGISTER_PER_IP: '2',
    });
  });

  after(() => server.close());

  it("refuses guesses with UNAVAILABLE, still limits the other calls in the instance's memory, and says so", async () => {
    const { email } = await registerUser({ server });
    for (const password of [WRONG, DEFAULT_PASSWORD]) {
      await expectRpcError(call(server.auth, 'login', { email, password }), status.UNAVAILABLE, {
        reason: 'RATE_LIMITS_UNAVAILABLE',
      });
    }
    await registerUser({ server });
    await expectRpcError(registerUser({ server }), status.RESOURCE_EXHAUSTED, { reason: 'RATE_LIMITED' });

    expect(server.logs.text()).to.contain('rate limits: Redis unreachable');
    expect(server.logs.text()).to.contain('(at start-up)');
    const metrics = await (await fetch(`http://127.0.0.1:${server.tessera.httpPort}/metrics`)).text();
    expect(metrics).to.match(/^tessera_rate_limit_store_shared 0$/m);
    expect(Number(metrics.match(/^tessera_rate_limit_fallbacks_total (\d+)$/m)?.[1])).to.be.greaterThan(0);
    expect(Number(metrics.match(/^tessera_rate_limit_unavailable_total (\d+)$/m)?.[1])).to.be.greaterThan(0);
  });

  it('shares the counters as soon as Redis comes up, without a restart', async () => {
    const redis = await PrivateRedis.start(redisPort);
    try {
      // An unknown address is counted and checked like a known one.
      const email = uniqueEmail('after-start');
      const deadline = Date.now() + 10_000;
      for (;;) {
        const answer = await call(server.auth, 'login', { email, password: WRONG }).catch((err: { code: status }) => err.code);
        if (answer === status.UNAUTHENTICATED) break;
        expect(answer, 'refused while not yet reconnected').to.equal(status.UNAVAILABLE);
        expect(Date.now(), 'reconnected within the retry back-off').to.be.below(deadline);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(server.logs.text()).to.contain('counters shared through Redis');
    } finally {
      await redis.stop();
    }
  });
});

describe('Rate limit counters in Redis', function () {
  this.timeout(30_000);
  const prefix = `tessera-test-${process.pid}-${Date.now()}`;
  let server: TestServer;

  before(async () => {
    server = await startSiblingServer({
      REDIS_URL: 'redis://127.0.0.1:6379',
      RATE_LIMIT_KEY_PREFIX: prefix,
    });
  });

  after(() => server.close());

  it('reports the store as shared, and keeps no email address in Redis keys', async () => {
    const { email } = await registerUser({ server });
    await expectRpcError(call(server.auth, 'login', { email, password: WRONG }), status.UNAUTHENTICATED);

    const metrics = await (await fetch(`http://127.0.0.1:${server.tessera.httpPort}/metrics`)).text();
    expect(metrics).to.match(/^tessera_rate_limit_store_shared 1$/m);
    expect(server.logs.text()).to.contain('counters shared through Redis');
    const redis = new Redis('redis://127.0.0.1:6379');
    try {
      const keys = await redis.keys(`${prefix}:*`);
      expect(keys.length).to.be.greaterThan(0);
      for (const key of keys) {
        expect(key).to.not.contain(email);
        expect(key).to.not.contain('127.0.0.1');
      }
      await redis.del(...keys);
    } finally {
      redis.disconnect();
    }
  });

  it('reports no outage when it shuts down', async () => {
    await server.close();
    expect(server.logs.text()).to.not.contain('Redis unreachable');
  });
});
