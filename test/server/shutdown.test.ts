import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { useProcessSuite } from '../helpers/cli-sandbox.js';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { connect } from 'node:net';
import { AuthServiceClient, type LoginResponse } from '../../src/gen/tessera/v1/auth_service.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { registerUser } from '../helpers/fixtures.js';
import {
  freePort,
  PROJECT_ROOT,
  spawnTessera,
  TESSERA_MAIN,
  tesseraEnv,
  waitForExit,
  waitForLine,
  type ProcessResult,
} from '../helpers/process.js';
import { call, startTestServer, type TestServer } from '../helpers/server.js';

/** A Login whose `started` resolves once the server has begun handling it (it sends headers first). */
function trackedLogin(client: AuthServiceClient, email: string, password: string) {
  let onStarted!: () => void;
  const started = new Promise<void>((resolve) => (onStarted = resolve));
  const finished = new Promise<{ res?: LoginResponse; err?: ServiceError; at: number }>((resolve) => {
    const pending = client.login({ email, password }, new Metadata(), { deadline: Date.now() + 10_000 }, (err, res) =>
      resolve({ res: err ? undefined : res, err: err ?? undefined, at: Date.now() }),
    );
    pending.on('metadata', () => onStarted());
  });
  return { started, finished };
}

async function expectUnavailable(client: AuthServiceClient): Promise<void> {
  const err = await call(client, 'getJwks', {}, new Metadata(), { deadline: Date.now() + 3000 }).then(
    () => undefined,
    (e: ServiceError) => e,
  );
  expect(err, 'the call should have failed').to.not.equal(undefined);
  expect(status[err!.code]).to.equal('UNAVAILABLE');
}

describe('graceful shutdown (in process)', function () {
  this.timeout(20_000);
  let db: TestDatabase;
  let server: TestServer;

  before(async () => {
    db = await createTestDatabase();
    server = await startTestServer(db);
  });
  after(async () => {
    server.auth.close();
    server.profile.close();
    await server.tessera.shutdown();
    await db.drop();
  });

  it('lets in-flight calls finish, then refuses new ones', async () => {
    const users = await Promise.all([1, 2, 3, 4].map(() => registerUser({ server })));
    const logins = users.map((u) => trackedLogin(server.auth, u.email, u.password));
    await Promise.all(logins.map((l) => l.started));

    const shutdownCalledAt = Date.now();
    const stopping = server.tessera.shutdown().then(() => Date.now());
    // A new connection is refused as soon as shutdown begins.
    const late = new AuthServiceClient(server.address, credentials.createInsecure());
    const lateCall = expectUnavailable(late);

    const results = await Promise.all(logins.map((l) => l.finished));
    for (const r of results) {
      expect(r.err?.details, 'in-flight login').to.equal(undefined);
      expect(r.res!.tokens!.accessToken).to.be.a('string').and.not.equal('');
    }
    // They really were in flight: at least one ended after shutdown began, and all before it completed.
    expect(Math.max(...results.map((r) => r.at))).to.be.at.least(shutdownCalledAt);
    const stoppedAt = await stopping;
    for (const r of results) expect(r.at).to.be.at.most(stoppedAt);
    await lateCall;
    late.close();

    // The existing client's connection was told to go away: its next call fails too.
    await expectUnavailable(server.auth);
    expect(server.logs.text()).to.contain('tessera stopped');
  });
});

describe('graceful shutdown (real process)', function () {
  // Generous bounds: a process starting (and an embedded PostgreSQL initialising) on a loaded 2-core machine.
  this.timeout(75_000);
  const suite = useProcessSuite();
  const { dataDirs } = suite;

  /** Spawns `tessera start` and waits until it listens. */
  async function startProcess(extra: Record<string, string | undefined>) {
    const grpcPort = await freePort();
    const httpPort = await freePort();
    const env = tesseraEnv(suite.db.url, { GRPC_PORT: String(grpcPort), HTTP_PORT: String(httpPort), ...extra });
    dataDirs.push(env.TESSERA_DATA_DIR!);
    const { child, exited } = await suite.untilListening(spawnTessera(['start'], env));
    return { child, exited, grpcPort, httpPort };
  }

  it('drains an in-flight call on SIGTERM and exits with code 0', async () => {
    const { child, exited, grpcPort, httpPort } = await startProcess({});
    const client = new AuthServiceClient(`127.0.0.1:${grpcPort}`, credentials.createInsecure());
    try {
      const email = `sigterm-${Date.now()}@example.com`;
      const password = 'signal handling passphrase';
      await call(client, 'register', { email, password, fullName: 'Signal' });
      const health = await fetch(`http://127.0.0.1:${httpPort}/readyz`);
      expect(health.status).to.equal(200);

      const login = trackedLogin(client, email, password);
      await login.started;
      const signalledAt = Date.now();
      child.kill('SIGTERM');

      const result = await login.finished;
      expect(result.err?.details, 'in-flight login').to.equal(undefined);
      const { code, stdout }: ProcessResult = await exited;
      expect(code, stdout).to.equal(0);
      expect(Date.now() - signalledAt).to.be.below(5000);
      expect(stdout).to.contain('shutting down').and.to.contain('tessera stopped');
    } finally {
      client.close();
    }
  });

  it('drains on SIGTERM and exits 0 as PID 1 of its own PID namespace, like a container entry point', async () => {
    // A database of its own: the other tests' signing keys are sealed with their own master keys.
    const own = await createTestDatabase();
    try {
      await drainAsPid1(own);
    } finally {
      await own.drop();
    }
  });

  async function drainAsPid1(own: TestDatabase) {
    const grpcPort = await freePort();
    const env = tesseraEnv(own.url, { GRPC_PORT: String(grpcPort), HTTP_PORT: String(await freePort()) });
    dataDirs.push(env.TESSERA_DATA_DIR!);
    // As PID 1 the kernel drops signals the process has no handler for: an unhandled SIGTERM would be ignored.
    const { child: wrapper, exited } = await suite.untilListening(
      spawn('unshare', ['--pid', '--fork', process.execPath, TESSERA_MAIN, 'start'], {
        cwd: PROJECT_ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    const pid = Number(readFileSync(`/proc/${wrapper.pid}/task/${wrapper.pid}/children`, 'utf8').trim());
    const namespacePids = readFileSync(`/proc/${pid}/status`, 'utf8')
      .match(/^NSpid:\s+(.+)$/m)![1]
      .split(/\s+/);
    expect(namespacePids.at(-1), 'PID inside its namespace').to.equal('1');

    const client = new AuthServiceClient(`127.0.0.1:${grpcPort}`, credentials.createInsecure());
    try {
      const email = `pid1-${Date.now()}@example.com`;
      const password = 'container entry point passphrase';
      await call(client, 'register', { email, password, fullName: 'Entry Point' });
      const login = trackedLogin(client, email, password);
      await login.started;
      process.kill(pid, 'SIGTERM');

      const result = await login.finished;
      expect(result.err?.details, 'in-flight login').to.equal(undefined);
      const { code, stdout } = await exited;
      expect(code, stdout).to.equal(0);
      expect(stdout).to.contain('"signal":"SIGTERM"').and.to.contain('tessera stopped');
    } finally {
      client.close();
    }
  }

  it('stops the embedded PostgreSQL and exits with code 0 on SIGTERM when DATABASE_URL is unset', async function () {
    if (!postgresUserCanReach(PROJECT_ROOT)) {
      // As root in a checkout others cannot enter (e.g. under a 0700 folder), the
      // embedded server cannot run; start-up must say so plainly instead.
      const env = tesseraEnv(suite.db.url, { DATABASE_URL: undefined, EMBEDDED_PG_PORT: String(await freePort()) });
      dataDirs.push(env.TESSERA_DATA_DIR!);
      const result = await waitForExit(spawnTessera(['start'], env), 20_000);
      expect(result.code).to.equal(1);
      expect(result.stderr).to.contain('cannot enter').and.to.contain('PostgreSQL binaries');
      return;
    }
    const pgPort = await freePort();
    const { child, exited, grpcPort } = await startProcess({ DATABASE_URL: undefined, EMBEDDED_PG_PORT: String(pgPort) });
    const client = new AuthServiceClient(`127.0.0.1:${grpcPort}`, credentials.createInsecure());
    try {
      expect((await call(client, 'getJwks', {})).keys).to.not.be.empty;
    } finally {
      client.close();
    }
    child.kill('SIGTERM');
    const { code, stdout } = await exited;
    expect(code, stdout).to.equal(0);
    expect(stdout).to.contain('tessera stopped');
    expect(await acceptsConnections(pgPort), 'embedded PostgreSQL still listening').to.equal(false);
  });

  it('as root, refuses plainly when the postgres OS user could not reach the data directory', async function () {
    // Only root hands PostgreSQL to another OS user; for anyone else a private data folder is fine.
    const asRoot = process.getuid?.() === 0;
    const closed = mkdtempSync(join(tmpdir(), 'tessera-closed-'));
    chmodSync(closed, 0o700);
    const env = tesseraEnv(suite.db.url, {
      DATABASE_URL: undefined,
      TESSERA_DATA_DIR: join(closed, 'data'),
      EMBEDDED_PG_PORT: String(await freePort()),
    });
    dataDirs.push(closed);
    const child = spawnTessera(['start'], env);
    if (!asRoot) {
      const exited = waitForExit(child, 25_000);
      await waitForLine(child, 'tessera listening', 20_000);
      child.kill('SIGTERM');
      expect((await exited).code).to.equal(0);
      return;
    }
    const result = await waitForExit(child, 20_000);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain(`cannot enter ${closed}`);
  });
});

/** Whether something listens on 127.0.0.1:`port`. */
function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Whether `path` and every folder above it let other OS users through (what the embedded PostgreSQL needs as root). */
function postgresUserCanReach(path: string): boolean {
  if (process.getuid?.() !== 0) return true;
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return false;
    if (dir === dirname(dir)) return true;
  }
}
