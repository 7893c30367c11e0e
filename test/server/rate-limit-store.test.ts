import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { createServer, type Server } from 'node:net';
import { DEFAULT_PASSWORD, registerUser } from '../helpers/fixtures.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { call, startSiblingServer, type TestServer } from '../helpers/server.js';

const WRONG = 'not the right passphrase';

/** A TCP port nothing listens on: taken, then released. */
async function closedPort(): Promise<number> {
  const probe: Server = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('Rate limit counters when Redis cannot be reached', function () {
  this.timeout(30_000);
  let server: TestServer;

  before(async () => {
    server = await startSiblingServer({
      REDIS_URL: `redis://127.0.0.1:${await closedPort()}`,
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '3',
    });
  });

  after(() => server.close());

  it("still limits, counting in the instance's memory, and says so in the log and the metrics", async () => {
    const { email } = await registerUser({ server });
    for (let i = 0; i < 3; i++) {
      await expectRpcError(call(server.auth, 'login', { email, password: WRONG }), status.UNAUTHENTICATED);
    }
    await expectRpcError(call(server.auth, 'login', { email, password: DEFAULT_PASSWORD }), status.RESOURCE_EXHAUSTED, {
      reason: 'TOO_MANY_ATTEMPTS',
    });

    expect(server.logs.text()).to.contain("Redis unreachable at start-up, counting in this instance's memory");
    const metrics = await (await fetch(`http://127.0.0.1:${server.tessera.httpPort}/metrics`)).text();
    expect(metrics).to.match(/^tessera_rate_limit_store_shared 0$/m);
    expect(Number(metrics.match(/^tessera_rate_limit_fallbacks_total (\d+)$/m)?.[1])).to.be.greaterThan(0);
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
});
