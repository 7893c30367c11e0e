import { credentials, Server, ServerCredentials, status, type sendUnaryData } from '@grpc/grpc-js';
import { expect } from 'chai';
import { AuthServiceClient, AuthServiceService } from '../../src/gen/tessera/v1/auth_service.js';
import { uniqueEmail } from '../helpers/fixtures.js';
import { outcomesOf, tally } from '../helpers/outcomes.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { call, startSiblingServer, type TestServer } from '../helpers/server.js';

/** U+FDFA (one code point, 3 UTF-8 bytes) becomes 18 code points under NFKC. */
const BOMB = '\uFDFA'.repeat(1_000_000);
const PER_CALL_MS = 50;
const CONCURRENT_BOMBS = 10;
const ALLOWED_DELAY_MS = 100;
const ATTEMPTS = 3;

const elapsedMs = (started: bigint) => Number(process.hrtime.bigint() - started) / 1e6;

/**
 * The transport floor: a bare grpc-js server with Tessera's AuthService codec
 * that refuses every call at once. Sending, receiving and decoding a 3 MB
 * message costs what it costs on this (shared, loaded) machine; what Tessera
 * adds on top of that is what the bounds below limit.
 */
async function startRefusingAuthServer(): Promise<{ client: AuthServiceClient; close(): void }> {
  const server = new Server();
  const refuse = (_call: unknown, callback: sendUnaryData<never>) =>
    callback({ code: status.INVALID_ARGUMENT, details: 'refused' }, null);
  server.addService(AuthServiceService, { register: refuse, login: refuse });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const client = new AuthServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  return {
    client,
    close: () => {
      client.close();
      server.forceShutdown();
    },
  };
}

/**
 * Attack 8 of issue 9: a password that NFKC expands 18x is normalised before
 * any length check, so a few such calls occupy the cores. Length bounds must
 * be checked on the raw input.
 */
describe('Attack: Unicode normalisation bombs in passwords', function () {
  this.timeout(120_000);
  let server: TestServer;
  let floor: Awaited<ReturnType<typeof startRefusingAuthServer>>;

  before(async () => {
    server = await startSiblingServer({
      PASSWORD_HASH_QUEUE_TIMEOUT_MS: '60000',
      RATE_LIMIT_REGISTER_PER_IP: '100000',
      // The 128 KiB default would refuse the 3 MB bomb in the transport (RESOURCE_EXHAUSTED) and hide the
      // ordering of the checks; grpc-js's own 4 MiB default (the floor server's) lets it reach Tessera.
      GRPC_MAX_MESSAGE_BYTES: String(4 * 1024 * 1024),
    });
    floor = await startRefusingAuthServer();
    await call(server.auth, 'getJwks', {});
  });

  after(async () => {
    floor.close();
    await server.close();
  });

  const register = (client: AuthServiceClient) =>
    call(client, 'register', { email: uniqueEmail('bomb'), password: BOMB, fullName: '' });
  const login = (client: AuthServiceClient) => call(client, 'login', { email: uniqueEmail('bomb'), password: BOMB });

  /** The fastest of a few sequential calls, in ms: scheduling noise only ever adds time. */
  async function fastest(attempt: () => Promise<unknown>): Promise<number> {
    let best = Infinity;
    for (let i = 0; i < ATTEMPTS; i++) {
      const started = process.hrtime.bigint();
      await attempt().catch(() => undefined);
      best = Math.min(best, elapsedMs(started));
    }
    return best;
  }

  for (const [name, bomb] of [
    ['Register', register],
    ['Login', login],
  ] as const) {
    it(`answers ${name} with 1,000,000 x U+FDFA as INVALID_ARGUMENT on password within ${PER_CALL_MS} ms`, async () => {
      await expectRpcError(bomb(server.auth), status.INVALID_ARGUMENT, { fields: ['password'] });

      const transport = await fastest(() => bomb(floor.client));
      const tessera = await fastest(() => bomb(server.auth));

      expect(
        tessera - transport,
        `${name} answered in ${tessera.toFixed(1)} ms, the bare transport in ${transport.toFixed(1)} ms`,
      ).to.be.below(PER_CALL_MS);
    });
  }

  it(`does not delay a concurrent GetJwks by more than ${ALLOWED_DELAY_MS} ms under ${CONCURRENT_BOMBS} bombs at once`, async () => {
    /**
     * The slowest GetJwks (to Tessera) while bombs to `target` are in flight,
     * and their outcomes; stops looking (leaving the bombs to the shutdown)
     * once a GetJwks took longer than `giveUpMs`.
     */
    const slowestJwksUnder = async (target: AuthServiceClient, giveUpMs = Infinity) => {
      let settled = false;
      const bombs = outcomesOf(Array.from({ length: CONCURRENT_BOMBS }, (_, i) => (i % 2 ? login(target) : register(target))));
      void bombs.finally(() => {
        settled = true;
      });
      let slowest = 0;
      do {
        const started = process.hrtime.bigint();
        await call(server.auth, 'getJwks', {});
        slowest = Math.max(slowest, elapsedMs(started));
      } while (!settled && slowest <= giveUpMs);
      return { slowest, outcomes: settled ? await bombs : undefined };
    };

    const transport = await slowestJwksUnder(floor.client);
    const tessera = await slowestJwksUnder(server.auth, transport.slowest + ALLOWED_DELAY_MS);

    expect(
      tessera.slowest - transport.slowest,
      `GetJwks took ${tessera.slowest.toFixed(1)} ms beside Tessera's bombs, at most ${transport.slowest.toFixed(1)} ms beside the bare transport's`,
    ).to.be.at.most(ALLOWED_DELAY_MS);
    const outcomes = tessera.outcomes!;
    const refusals = outcomes.filter((o) => o.details?.badRequest?.fieldViolations.some((v) => v.field === 'password'));
    expect(refusals.length, JSON.stringify(tally(outcomes))).to.equal(CONCURRENT_BOMBS);
  });
});
