import { credentials, status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { loadSync } from '@grpc/proto-loader';
import { loadPackageDefinition } from '@grpc/grpc-js';
import { protoPath } from 'grpc-health-check';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { DEFAULT_PASSWORD, uniqueEmail } from '../helpers/fixtures.js';
import { eventually } from '../helpers/eventually.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { call, startTestServer, type TestServer } from '../helpers/server.js';

/** A TCP relay to PostgreSQL that a test can cut and restore, to play a database outage. */
class CuttableRelay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  /** Relays to PostgreSQL; `blackhole` accepts connections and never answers (a hung network). */
  async open(port = 0, mode: 'relay' | 'blackhole' = 'relay'): Promise<void> {
    this.server = createServer((client) => {
      this.sockets.add(client);
      client.on('close', () => this.sockets.delete(client));
      client.on('error', () => client.destroy());
      if (mode === 'blackhole') return;
      const upstream = createConnection(this.target);
      for (const s of [upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  /** Drops every connection and refuses new ones. */
  async cut(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function healthStatus(address: string): Promise<string> {
  const pkg = loadPackageDefinition(loadSync(protoPath, { enums: String })) as unknown as {
    grpc: { health: { v1: { Health: new (a: string, c: ReturnType<typeof credentials.createInsecure>) => any } } };
  };
  const client = new pkg.grpc.health.v1.Health(address, credentials.createInsecure());
  return new Promise((resolve, reject) =>
    client.check({ service: '' }, (err: Error | null, res: { status: string }) => {
      client.close();
      return err ? reject(err) : resolve(res.status);
    }),
  );
}

describe('A database outage', () => {
  let db: TestDatabase;
  let relay: CuttableRelay;
  let server: TestServer;

  before(async function () {
    this.timeout(60_000);
    db = await createTestDatabase();
    const url = new URL(db.url);
    relay = new CuttableRelay({ host: url.hostname, port: Number(url.port || 5432) });
    await relay.open();
    url.port = String(relay.port);
    server = await startTestServer(db, { DATABASE_URL: url.toString() });
  });

  after(async function () {
    this.timeout(30_000);
    await server.close();
    await relay.cut();
    await db.drop();
  });

  it('answers UNAVAILABLE (not INTERNAL) quickly, reports NOT_SERVING, and recovers when the database is back', async function () {
    this.timeout(60_000);
    const email = uniqueEmail('outage');
    await call(server.auth, 'register', { email, password: DEFAULT_PASSWORD, fullName: 'Outage' });
    expect(await healthStatus(server.address)).to.equal('SERVING');

    await relay.cut();
    const started = Date.now();
    await expectRpcError(call(server.auth, 'login', { email, password: DEFAULT_PASSWORD }), status.UNAVAILABLE, {
      reason: 'DATABASE_UNAVAILABLE',
    });
    expect(Date.now() - started, 'fails fast instead of waiting on the pool').to.be.below(10_000);
    await eventually('NOT_SERVING', async () => (await healthStatus(server.address)) === 'NOT_SERVING', 15_000);
    expect(server.logs.text()).to.not.contain(DEFAULT_PASSWORD);

    await relay.open(relay.port);
    await eventually('SERVING again', async () => (await healthStatus(server.address)) === 'SERVING', 15_000);
    const res = await call(server.auth, 'login', { email, password: DEFAULT_PASSWORD });
    expect(res.tokens?.accessToken).to.be.a('string');
  });

  it('answers UNAVAILABLE within the connect timeout when the database hangs instead of refusing', async function () {
    this.timeout(120_000);
    const email = uniqueEmail('hang');
    await call(server.auth, 'register', { email, password: DEFAULT_PASSWORD, fullName: 'Hang' });
    await relay.cut();
    await relay.open(relay.port, 'blackhole');
    try {
      // The first call may fail at once on a pooled connection the cut killed; the next must open a new one.
      await expectRpcError(call(server.auth, 'login', { email, password: DEFAULT_PASSWORD }), status.UNAVAILABLE);
      const started = Date.now();
      await expectRpcError(call(server.auth, 'login', { email, password: DEFAULT_PASSWORD }), status.UNAVAILABLE, {
        reason: 'DATABASE_UNAVAILABLE',
      });
      const elapsed = Date.now() - started;
      expect(elapsed, 'it did wait for the hung connect').to.be.at.least(4000);
      expect(elapsed, 'bounded by the 5 s connect and acquire timeouts, not the pool default of 60 s').to.be.below(30_000);
    } finally {
      await relay.cut();
      await relay.open(relay.port);
    }
    await eventually('SERVING again', async () => (await healthStatus(server.address)) === 'SERVING', 15_000);
  });
});
