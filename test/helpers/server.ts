import { credentials, Metadata } from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/logger.js';
import { loadConfig } from '../../src/config.js';
import { startTessera, type StartOptions, type Tessera } from '../../src/server.js';
import { AuthServiceClient } from '../../src/gen/tessera/v1/auth_service.js';
import { IdentityServiceClient } from '../../src/gen/tessera/v1/identity_service.js';
import { ProfileServiceClient } from '../../src/gen/tessera/v1/profile_service.js';
import { AdjustableClock } from './clock.js';
import { TEST_EMAIL_INDEX_KEY } from './email-index.js';
import { harness } from './harness.js';
import type { TestDatabase } from './database.js';

export const BOOTSTRAP_ADMIN = { email: 'root-admin@tessera.test', password: 'bootstrap admin passphrase' };

/** Every log line the server wrote, as parsed JSON, so tests can check that nothing secret was logged. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }
  text(): string {
    return this.lines.join('\n');
  }
}

/** A server on 127.0.0.1:0 with typed clients, a movable clock and captured logs. */
export interface TestServer {
  tessera: Tessera;
  address: string;
  clock: AdjustableClock;
  logs: LogCapture;
  env: Record<string, string>;
  auth: AuthServiceClient;
  profile: ProfileServiceClient;
  identity: IdentityServiceClient;
  close(): Promise<void>;
}

/**
 * Servers on the shared database share the shared server's data folder: every
 * instance runs an outbox worker, and whichever claims a message first writes
 * it (without SMTP_URL) into its data folder, where the tests look for it.
 */
function sharedDataDirFor(db: TestDatabase): string | undefined {
  try {
    const shared = harness();
    return shared.db.url === db.url ? shared.server.env.TESSERA_DATA_DIR : undefined;
  } catch {
    return undefined; // the shared server itself is being started
  }
}

/** Starts Tessera against `db` with test settings; `env` overrides any variable, `options` adds start options. */
export async function startTestServer(
  db: TestDatabase,
  env: Record<string, string> = {},
  options: Pick<StartOptions, 'spanExporter'> = {},
): Promise<TestServer> {
  const fullEnv: Record<string, string> = {
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    TESSERA_DATA_DIR: sharedDataDirFor(db) ?? mkdtempSync(join(tmpdir(), 'tessera-test-data-')),
    GRPC_PORT: '0',
    HTTP_PORT: '0',
    LOG_LEVEL: 'info',
    TESSERA_ISSUER: 'urn:tessera:test',
    TESSERA_AUDIENCE: 'tessera-test',
    TESSERA_PEPPER: randomBytes(32).toString('base64'),
    TESSERA_MASTER_KEY: randomBytes(32).toString('base64'),
    TESSERA_EMAIL_INDEX_KEY: TEST_EMAIL_INDEX_KEY,
    TESSERA_BOOTSTRAP_ADMIN_EMAIL: BOOTSTRAP_ADMIN.email,
    TESSERA_BOOTSTRAP_ADMIN_PASSWORD: BOOTSTRAP_ADMIN.password,
    SHUTDOWN_GRACE_SECONDS: '2',
    // The whole suite calls from 127.0.0.1; the per-IP limits have their own tests
    // (test/auth/login-throttle.test.ts, test/security/anonymous-floods.test.ts).
    LOGIN_MAX_FAILURES_PER_IP: '100000',
    RATE_LIMIT_REGISTER_PER_IP: '100000',
    RATE_LIMIT_PASSWORD_RESET_PER_IP: '100000',
    RATE_LIMIT_EMAIL_VERIFICATION_PER_IP: '100000',
    RATE_LIMIT_PROVIDER_LOGIN_PER_IP: '100000',
    // Retention runs at start and then once a day: tests move clocks by days and run it themselves (tessera.retention.runOnce()).
    RETENTION_INTERVAL_SECONDS: '86400',
    ...env,
  };
  const clock = new AdjustableClock();
  const logs = new LogCapture();
  const config = loadConfig(fullEnv);
  const tessera = await startTessera(config, { ...options, clock, log: createLogger(config.logLevel, logs) });
  const address = `127.0.0.1:${tessera.grpcPort}`;
  const auth = new AuthServiceClient(address, credentials.createInsecure());
  const profile = new ProfileServiceClient(address, credentials.createInsecure());
  const identity = new IdentityServiceClient(address, credentials.createInsecure());
  return {
    tessera,
    address,
    clock,
    logs,
    env: fullEnv,
    auth,
    profile,
    identity,
    close: async () => {
      auth.close();
      profile.close();
      identity.close();
      await tessera.shutdown();
    },
  };
}

/**
 * Calls a unary method of a generated client as a promise:
 * `await call(server.auth, 'login', { email, password })`.
 */
export { callUnary as call } from '../../src/client/call-unary.js';

/** Metadata carrying `authorization: Bearer <token>`. */
export function bearer(token: string): Metadata {
  const md = new Metadata();
  md.set('authorization', `Bearer ${token}`);
  return md;
}

/**
 * A second server on the shared test database, with the shared server's
 * secrets (it must open the same signing keys and verify the same passwords)
 * and `env` on top: another instance of the same deployment.
 */
export async function startSiblingServer(env: Record<string, string> = {}): Promise<TestServer> {
  const shared = harness().server.env;
  return startTestServer(harness().db, {
    TESSERA_PEPPER: shared.TESSERA_PEPPER,
    TESSERA_MASTER_KEY: shared.TESSERA_MASTER_KEY,
    ...env,
  });
}
