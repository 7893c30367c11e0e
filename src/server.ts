import { Server, ServerCredentials } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { Server as HttpServer } from 'node:http';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { OidcVerifier } from './crypto/oidc.js';
import { PasswordHasher } from './crypto/passwords.js';
import { SecretBox } from './crypto/secret-box.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded.js';
import { connectOrm, migrateToLatest, pingDatabase, type Orm } from './db/index.js';
import { ensureBootstrapAdmin } from './domain/accounts.js';
import { systemContext } from './domain/context.js';
import type { DomainDeps } from './domain/deps.js';
import { SigningKeyRing } from './domain/signing-keys.js';
import { AuthServiceService } from './gen/tessera/v1/auth_service.js';
import { IdentityServiceService } from './gen/tessera/v1/identity_service.js';
import { ProfileServiceService } from './gen/tessera/v1/profile_service.js';
import { createLogger, type Logger } from './logger.js';
import { Metrics } from './metrics.js';
import { startOpsServer } from './ops-http.js';
import { readAccessPolicies } from './rpc/access-policy.js';
import { authService } from './rpc/auth-service.js';
import type { RpcRuntime } from './rpc/handler.js';
import { identityService } from './rpc/identity-service.js';
import { profileService } from './rpc/profile-service.js';
import { addReflection } from './rpc/reflection.js';
import { loadTesseraPackageDefinition, TESSERA_SERVICES } from './rpc/proto-definitions.js';

/** A running instance. */
export interface Tessera {
  grpcPort: number;
  httpPort: number;
  orm: Orm;
  deps: DomainDeps;
  log: Logger;
  /** Stops accepting calls, drains in-flight ones (up to the grace period), then closes everything. */
  shutdown(): Promise<void>;
}

export interface StartOptions {
  log?: Logger;
  clock?: Clock;
  /** Collect Node process metrics (off in tests, which run several instances in one process). */
  processMetrics?: boolean;
}

const HEALTH_CHECK_INTERVAL_MS = 5000;

/** Composition root: config -> database -> domain -> rpc -> gRPC server (+ health, reflection, ops HTTP). */
export async function startTessera(config: Config, options: StartOptions = {}): Promise<Tessera> {
  const log = options.log ?? createLogger(config.logLevel);
  const clock = options.clock ?? systemClock;
  const metrics = new Metrics({ collectDefaults: options.processMetrics ?? false });

  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    log.info({ port: config.embeddedPostgresPort }, 'DATABASE_URL not set: starting embedded PostgreSQL under the data directory');
    embedded = await startEmbeddedPostgres(config.dataDir, config.embeddedPostgresPort, (m) => log.warn(m));
    databaseUrl = embedded.url;
  }

  const orm = await connectOrm(databaseUrl);
  const applied = await migrateToLatest(orm);
  if (applied.length > 0) log.info({ migrations: applied }, 'migrations applied');

  const deps = await buildDomain(config, orm, clock);
  if (config.bootstrapAdmin) {
    const admin = await ensureBootstrapAdmin(deps, orm.em.fork(), systemContext('bootstrap'), config.bootstrapAdmin);
    if (admin) log.info({ userId: admin.id }, 'bootstrap administrator created');
  }

  const definition = loadTesseraPackageDefinition();
  const rt: RpcRuntime = { deps, orm, log, metrics, policies: readAccessPolicies(definition) };
  const server = new Server({
    'grpc.max_receive_message_length': config.grpc.maxMessageBytes,
    'grpc.max_send_message_length': config.grpc.maxMessageBytes,
    'grpc.keepalive_time_ms': 60_000,
    'grpc.keepalive_timeout_ms': 20_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 10_000,
  });
  server.addService(AuthServiceService, authService(rt));
  server.addService(ProfileServiceService, profileService(rt));
  server.addService(IdentityServiceService, identityService(rt));
  addReflection(server);

  const health = new HealthImplementation({ '': 'NOT_SERVING' });
  health.addToServer(server);
  let ready = false;
  const checkHealth = async () => {
    ready = await pingDatabase(orm.em.fork());
    metrics.databaseUp.set(ready ? 1 : 0);
    const state = ready ? 'SERVING' : 'NOT_SERVING';
    for (const name of ['', ...TESSERA_SERVICES]) health.setStatus(name, state);
  };
  await checkHealth();
  const healthTimer = setInterval(() => void checkHealth(), HEALTH_CHECK_INTERVAL_MS);
  healthTimer.unref();

  const grpcPort = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${config.grpc.host}:${config.grpc.port}`, ServerCredentials.createInsecure(), (err, port) =>
      err ? reject(err) : resolve(port),
    );
  });
  const ops = await startOpsServer(config.http.host, config.http.port, {
    metrics,
    isReady: () => ready,
    jwks: () => deps.signingKeys.jwks(),
  });
  log.info({ grpcPort, httpPort: ops.port }, 'tessera listening');

  let stopping: Promise<void> | undefined;
  const shutdown = () =>
    (stopping ??= (async () => {
      clearInterval(healthTimer);
      for (const name of ['', ...TESSERA_SERVICES]) health.setStatus(name, 'NOT_SERVING');
      await drain(server, config.grpc.shutdownGraceMs);
      await closeHttp(ops.server);
      await orm.close();
      await embedded?.stop();
      log.info('tessera stopped');
    })());

  return { grpcPort, httpPort: ops.port, orm, deps, log, shutdown };
}

/** The domain's dependencies for a configuration: hashing, keys, encryption, clock. */
export async function buildDomain(config: Config, orm: Orm, clock: Clock): Promise<DomainDeps> {
  const signingKeys = new SigningKeyRing(new SecretBox(config.secrets.masterKey, 'signing-keys'), clock);
  await signingKeys.initialize(orm.em.fork());
  return {
    clock,
    signingKeys,
    passwords: new PasswordHasher({ ...config.argon2, pepper: config.secrets.pepper }),
    profileBox: new SecretBox(config.secrets.masterKey, 'profile-fields'),
    tokens: config.tokens,
    oidc: new OidcVerifier(config.oidc.providers, { jwksCooldownMs: config.oidc.jwksCooldownMs }),
    userDeleteRetentionDays: config.users.deleteRetentionDays,
  };
}

/** Lets in-flight calls finish; after the grace period, cuts what is left (open streams never end on their own). */
function drain(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function closeHttp(server: HttpServer): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
