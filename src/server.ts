import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { HealthImplementation } from 'grpc-health-check';
import { setMaxListeners } from 'node:events';
import { join } from 'node:path';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { buildDomain, openLimiterStore } from './domain-dependencies.js';
import { closeHttp, coalesced, drain, hostForUrl, Teardown } from './server-lifecycle.js';
import { DEFAULT_PUBLIC_HTTP_PORT } from './config-files.js';
import { startEmbeddedPostgres } from './db/embedded.js';
import {
  AUDIT_CHANNEL,
  NotificationListener,
  SIGNING_KEYS_CHANNEL,
  connectOrm,
  countLegacyPasswordHashes,
  defaultKeyDatabaseUrl,
  migrateToLatest,
  moveLegacyUserKeys,
  openKeyStore,
  pingDatabase,
  type Orm,
} from './db/index.js';
import { AuditStreamHub } from './jobs/audit-stream-hub.js';
import { createRetentionJob, type RetentionJob } from './jobs/retention.js';
import { ensureBootstrapAdmin } from './domain/auth/registration.js';
import { systemOperation } from './domain/kernel/operation.js';
import type { DomainDeps } from './domain/kernel/operation.js';
import { revealAuditEvents } from './domain/kernel/audit-personal-data.js';
import { AuthServiceService } from './gen/tessera/v1/auth_service.js';
import { ComplianceServiceService } from './gen/tessera/v1/compliance_service.js';
import { IdentityServiceService } from './gen/tessera/v1/identity_service.js';
import { ProfileServiceService } from './gen/tessera/v1/profile_service.js';
import { createLogger, type Logger } from './logger.js';
import { OutboxWorker } from './jobs/outbox-delivery.js';
import { createMailTransport } from './mail/transport.js';
import { Metrics } from './metrics.js';
import { startOpsServer } from './ops-http.js';
import { startPublicServer } from './pages/public-server.js';
import { startTracing } from './telemetry/tracing.js';
import { CertificateFiles } from './tls/certificate-files.js';
import { readAccessPolicies } from './rpc/access-policy.js';
import { readRequestShapes, withRefusableDecoding } from './rpc/request-shape.js';
import { authService } from './rpc/auth-service.js';
import { complianceService } from './rpc/compliance-service.js';
import { ProxyTrust } from './rpc/metadata.js';
import type { RpcRuntime } from './rpc/call-context.js';
import { identityService } from './rpc/identity-service.js';
import { profileService } from './rpc/profile-service.js';
import { addReflection } from './rpc/reflection.js';
import { sealClearEmails } from './domain/compliance/email-sealing.js';
import { sealClearProfileFields } from './domain/compliance/profile-sealing.js';
import { sealClearProviderSubjects } from './domain/compliance/provider-subject-sealing.js';
import { loadTesseraPackageDefinition, TESSERA_SERVICES } from './rpc/proto-definitions.js';

/** A running instance. */
export interface Tessera {
  grpcPort: number;
  httpPort: number;
  /** The port of the public pages (mailed links), when that listener is on. */
  publicHttpPort: number | undefined;
  /** Where mailed links point. */
  publicBaseUrl: string;
  orm: Orm;
  deps: DomainDeps;
  log: Logger;
  /** The audit stream fan-out of this instance. */
  auditStream: AuditStreamHub;
  /** Delivers queued mail; `runOnce()` lets tests deliver without waiting for the next poll. */
  outbox: OutboxWorker;
  /** Prunes and erases what is past its window; `runOnce()` lets tests run it now. */
  retention: RetentionJob;
  /**
   * Re-reads the TLS files (SIGHUP): new handshakes get the new certificate,
   * live connections stay. False when TLS is off or nothing changed; throws
   * when the files are invalid (the old certificate keeps serving).
   */
  reloadCertificates(): boolean;
  /** Stops accepting calls, drains in-flight ones (up to the grace period), then closes everything. */
  shutdown(): Promise<void>;
}

export interface StartOptions {
  log?: Logger;
  clock?: Clock;
  /** Collect Node process metrics (off in tests, which run several instances in one process). */
  processMetrics?: boolean;
  /** Turns tracing on with this exporter, whatever the configuration says (tests: in memory). */
  spanExporter?: SpanExporter;
}

const HEALTH_CHECK_INTERVAL_MS = 5000;
/** Responses are bounded by page sizes; the grpc-js client's default receive limit is 4 MiB. */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/** Composition root: config -> database -> domain -> rpc -> gRPC server (+ health, reflection, ops HTTP). */
export async function startTessera(config: Config, options: StartOptions = {}): Promise<Tessera> {
  const log = options.log ?? createLogger(config.logLevel);
  const clock = options.clock ?? systemClock;
  const metrics = new Metrics({ collectDefaults: options.processMetrics ?? false });
  const teardown = new Teardown();
  try {
    // First on, last off: spans of the shutdown's own work are still exported.
    const tracing = startTracing(config.tracing, options.spanExporter);
    if (tracing) {
      teardown.add(() => tracing.shutdown());
      log.info(
        { endpoint: config.tracing.endpoint && new URL(config.tracing.endpoint).origin, serviceName: config.tracing.serviceName },
        'tracing on',
      );
    }
    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      log.info(
        { port: config.embeddedPostgresPort },
        'DATABASE_URL not set: starting embedded PostgreSQL under the data directory',
      );
      const embedded = await startEmbeddedPostgres(config.dataDir, config.embeddedPostgresPort, (m) => log.warn(m));
      teardown.add(() => embedded.stop());
      databaseUrl = embedded.url;
    }

    // Read first: bad certificate files should stop the start before anything else runs.
    const tls = config.tls ? new CertificateFiles(config.tls) : undefined;
    if (tls) {
      log.info({ certificate: tls.describe(), clientCertificates: tls.requiresClientCertificate }, 'TLS on');
      const stopWatching = tls.watch(
        (certificate) => log.info({ certificate }, 'TLS certificate reloaded (files changed)'),
        (err) => log.error({ err }, 'TLS files changed but could not be loaded; the previous certificate stays'),
      );
      teardown.add(stopWatching);
    }

    const orm = await connectOrm(databaseUrl);
    teardown.add(() => orm.close());
    const applied = await migrateToLatest(orm);
    if (applied.length > 0) log.info({ migrations: applied }, 'migrations applied');
    const keyStore = await openKeyStore(config.keyDatabaseUrl ?? defaultKeyDatabaseUrl(databaseUrl));
    teardown.add(() => keyStore.close());
    // Before anything reads or creates a data key: keys earlier versions kept in the main database move out.
    const movedKeys = await moveLegacyUserKeys(orm.em.fork(), keyStore);
    if (movedKeys > 0) log.info({ movedKeys }, 'data keys moved from the main database to the key store');

    const limiterStore = await openLimiterStore(config, log, metrics);
    teardown.add(() => limiterStore.close());
    const deps = await buildDomain(config, orm, clock, keyStore, limiterStore);
    // Before serving: sign-in finds accounts by the email blind index only.
    const sealed = await sealClearEmails(systemOperation(deps, orm.em.fork(), 'startup'));
    if (Object.values(sealed).some((n) => n > 0)) log.info({ sealed }, 'clear email addresses sealed');
    // Before serving: profiles are read as sealed only.
    const sealedProfiles = await sealClearProfileFields(systemOperation(deps, orm.em.fork(), 'startup'));
    if (sealedProfiles > 0) log.info({ sealedProfiles }, 'clear avatar URLs and preferences sealed');
    // Likewise provider sign-in finds links by the subject's blind index only.
    const sealedSubjects = await sealClearProviderSubjects(systemOperation(deps, orm.em.fork(), 'startup'));
    if (sealedSubjects > 0) log.info({ sealedSubjects }, 'clear provider subjects sealed');
    if (config.bootstrapAdmin) {
      const admin = await ensureBootstrapAdmin(systemOperation(deps, orm.em.fork(), 'bootstrap'), config.bootstrapAdmin);
      if (admin) log.info({ userId: admin.id }, 'bootstrap administrator created');
    }

    const stopKeyReload = deps.signingKeys.startReloading(
      () => orm.em.fork(),
      (err) => log.error({ err }, 'signing key reload failed'),
    );
    teardown.add(stopKeyReload);
    metrics.countLegacyPasswordHashes = () => countLegacyPasswordHashes(orm.em.fork(), deps.passwords.pepperId);
    // Before the outbox starts: without PUBLIC_BASE_URL, mailed links point at this listener.
    const publicPages = config.publicHttp
      ? await startPublicServer(config.publicHttp.host, config.publicHttp.port, { deps, orm, log, tls })
      : undefined;
    if (publicPages) teardown.add(() => closeHttp(publicPages.server));
    const publicBaseUrl =
      config.mail.publicBaseUrl ??
      (publicPages
        ? `${tls ? 'https' : 'http'}://${hostForUrl(config.publicHttp!.host)}:${publicPages.port}`
        : `http://127.0.0.1:${DEFAULT_PUBLIC_HTTP_PORT}`);
    const transport = createMailTransport(config.mail.smtpUrl, config.dataDir, log);
    const outbox = new OutboxWorker(orm, transport, deps.outboxBox, clock, log, metrics, { ...config.mail, publicBaseUrl });
    outbox.start();
    teardown.add(() => outbox.stop());
    if (transport.kind === 'files') log.info({ dir: join(config.dataDir, 'mail') }, 'SMTP_URL not set: mail is written to files');

    // One LISTEN connection per instance wakes the audit fan-out hub and reloads the signing keys.
    const auditStream = new AuditStreamHub(
      () => orm.em.fork(),
      { maxBufferedPerSubscriber: config.audit.streamMaxBuffered, pollIntervalMs: config.audit.streamPollMs },
      (err) => log.error({ err }, 'audit stream fan-out failed; retrying on the next wake-up'),
      (em, rows) => revealAuditEvents(em, deps.userKeys, rows),
    );
    await auditStream.start();
    teardown.add(() => auditStream.close());
    metrics.trackAuditStream(() => auditStream.stats());
    const reloadSigningKeys = coalesced(() =>
      deps.signingKeys.reload(orm.em.fork()).catch((err: unknown) => log.error({ err }, 'signing key reload failed')),
    );
    const listener = new NotificationListener(
      databaseUrl,
      { [AUDIT_CHANNEL]: () => auditStream.wake(), [SIGNING_KEYS_CHANNEL]: reloadSigningKeys },
      (err) => log.warn({ err }, 'LISTEN connection lost; reconnecting'),
    );
    teardown.add(() => listener.stop());
    await listener.start();
    const retention = createRetentionJob(orm, deps, config.retention, log, metrics);
    retention.start();
    teardown.add(() => retention.stop());

    const definition = loadTesseraPackageDefinition();
    const stopping = new AbortController();
    // Every live stream listens here, to end on shutdown, and stops listening when it ends: no
    // leak, but Node warns (MaxListenersExceededWarning) past 10. Streams are capped per principal.
    setMaxListeners(0, stopping.signal);
    const rt: RpcRuntime = {
      deps,
      orm,
      log,
      metrics,
      policies: readAccessPolicies(definition),
      requestShapes: readRequestShapes(definition),
      proxies: new ProxyTrust(config.trustedProxies),
      shutdownSignal: stopping.signal,
    };
    const server = new Server({
      'grpc.max_receive_message_length': config.grpc.maxMessageBytes,
      'grpc.max_send_message_length': MAX_RESPONSE_BYTES,
      'grpc.max_concurrent_streams': config.grpc.maxConcurrentStreams,
      'grpc.max_connection_age_ms': config.grpc.maxConnectionAgeMs,
      'grpc.max_connection_age_grace_ms': config.grpc.maxConnectionAgeGraceMs,
      'grpc.max_connection_idle_ms': config.grpc.maxConnectionIdleMs,
      // The server pings quiet connections and drops those that do not answer (dead peers, half-open NATs).
      // grpc-js ignores the client-ping policing options of other gRPC servers
      // (grpc.http2.min_ping_interval_without_data_ms, max_ping_strikes); Node's HTTP/2 bounds ping floods itself.
      'grpc.keepalive_time_ms': 60_000,
      'grpc.keepalive_timeout_ms': 20_000,
    });
    server.addService(withRefusableDecoding(AuthServiceService), authService(rt));
    server.addService(withRefusableDecoding(ProfileServiceService), profileService(rt));
    server.addService(withRefusableDecoding(IdentityServiceService), identityService(rt));
    server.addService(
      withRefusableDecoding(ComplianceServiceService),
      complianceService(rt, auditStream, config.audit.streamsPerPrincipal),
    );
    addReflection(server);

    const health = new HealthImplementation({ '': 'NOT_SERVING' });
    health.addToServer(server);
    let unavailable: string[] = [];
    const checkHealth = async () => {
      // Every call that reads personal data needs both: without the key store, nothing sealed opens.
      const [database, keys] = await Promise.all([pingDatabase(orm.em.fork()), keyStore.ping()]);
      metrics.databaseUp.set(database ? 1 : 0);
      metrics.keyStoreUp.set(keys ? 1 : 0);
      unavailable = [...(database ? [] : ['database']), ...(keys ? [] : ['key store'])];
      const state = unavailable.length === 0 ? 'SERVING' : 'NOT_SERVING';
      for (const name of ['', ...TESSERA_SERVICES]) health.setStatus(name, state);
    };
    await checkHealth();
    const healthTimer = setInterval(() => void checkHealth(), HEALTH_CHECK_INTERVAL_MS);
    healthTimer.unref();
    teardown.add(() => clearInterval(healthTimer));

    const grpcPort = await new Promise<number>((resolve, reject) => {
      const credentials = tls ? tls.grpcCredentials() : ServerCredentials.createInsecure();
      server.bindAsync(`${config.grpc.host}:${config.grpc.port}`, credentials, (err, port) =>
        err ? reject(err) : resolve(port),
      );
    });
    teardown.add(async () => {
      for (const name of ['', ...TESSERA_SERVICES]) health.setStatus(name, 'NOT_SERVING');
      // Streams never finish on their own: end them (UNAVAILABLE) so the drain can complete.
      stopping.abort();
      auditStream.close();
      await drain(server, config.grpc.shutdownGraceMs);
    });
    const ops = await startOpsServer(
      config.http.host,
      config.http.port,
      {
        metrics,
        unavailable: () => unavailable,
        limitsReachable: () => limiterStore.reachable,
        jwks: () => deps.signingKeys.jwks(),
      },
      tls,
    );
    teardown.add(() => closeHttp(ops.server));
    log.info({ grpcPort, httpPort: ops.port, publicHttpPort: publicPages?.port, publicBaseUrl }, 'tessera listening');

    let stopped: Promise<void> | undefined;
    const shutdown = () =>
      (stopped ??= teardown.run(log).then(() => {
        log.info('tessera stopped');
      }));
    return {
      grpcPort,
      httpPort: ops.port,
      publicHttpPort: publicPages?.port,
      publicBaseUrl,
      orm,
      deps,
      log,
      auditStream,
      outbox,
      retention,
      reloadCertificates: () => {
        const loaded = tls?.reload();
        if (loaded) log.info({ certificate: loaded }, 'TLS certificate reloaded');
        return loaded !== undefined;
      },
      shutdown,
    };
  } catch (err) {
    await teardown.run(log);
    throw err;
  }
}
