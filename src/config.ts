import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from './config-error.js';
import type { Config } from './config-types.js';
import { tlsSettings, publicListener, resolveSecrets } from './config-files.js';
import {
  secret,
  secretList,
  port,
  LOOPBACK_HOSTS,
  oidcProviders,
  positiveInt,
  nonNegativeInt,
  httpUrl,
  redisUrl,
  smtpUrl,
} from './config-values.js';

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  TESSERA_DATA_DIR: z.string().default('.data'),
  DATABASE_URL: z.string().url().optional(),
  KEY_DATABASE_URL: z.string().url().optional(),
  EMBEDDED_PG_PORT: port.default(54329),
  GRPC_HOST: z.string().default('127.0.0.1'),
  GRPC_PORT: port.default(50051),
  // The largest legitimate request, an UpdateProfile with every field at its limit, encodes to about 100 KiB.
  GRPC_MAX_MESSAGE_BYTES: positiveInt.default(128 * 1024),
  GRPC_MAX_CONCURRENT_STREAMS: positiveInt.default(1000),
  GRPC_MAX_CONNECTION_AGE_SECONDS: positiveInt.default(30 * 60),
  GRPC_MAX_CONNECTION_AGE_GRACE_SECONDS: positiveInt.default(5 * 60),
  GRPC_MAX_CONNECTION_IDLE_SECONDS: positiveInt.default(5 * 60),
  SHUTDOWN_GRACE_SECONDS: positiveInt.default(10),
  HTTP_HOST: z.string().default('127.0.0.1'),
  TLS_CERT_FILE: z.string().min(1).optional(),
  TLS_KEY_FILE: z.string().min(1).optional(),
  TLS_CLIENT_CA_FILE: z.string().min(1).optional(),
  ALLOW_PLAINTEXT: z.enum(['true', 'false']).default('false'),
  HTTP_PORT: port.default(9090),
  TESSERA_WORKERS: z.coerce.number().int().min(1).max(64).default(1),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.preprocess((value) => (value === '' ? undefined : value), httpUrl.optional()),
  OTEL_SERVICE_NAME: z.string().min(1).default('tessera'),
  TESSERA_ISSUER: z.string().min(1).default('urn:tessera:dev'),
  TESSERA_AUDIENCE: z.string().min(1).default('tessera'),
  ACCESS_TOKEN_TTL_SECONDS: positiveInt.max(24 * 3600).default(900),
  /** Older name of SESSION_IDLE_TIMEOUT_SECONDS, still honoured. */
  REFRESH_TOKEN_TTL_SECONDS: positiveInt.optional(),
  SESSION_IDLE_TIMEOUT_SECONDS: positiveInt.optional(),
  SESSION_ABSOLUTE_LIFETIME_SECONDS: positiveInt.default(90 * 24 * 3600),
  REFRESH_REUSE_GRACE_SECONDS: nonNegativeInt.max(300).default(10),
  STEP_UP_MAX_AGE_SECONDS: positiveInt.max(24 * 3600).default(600),
  PASSWORD_RESET_TTL_SECONDS: positiveInt.max(24 * 3600).default(30 * 60),
  EMAIL_VERIFICATION_TTL_SECONDS: positiveInt.max(30 * 24 * 3600).default(24 * 3600),
  SIGNING_KEY_PROPAGATION_SECONDS: nonNegativeInt.default(600),
  SIGNING_KEYS_RELOAD_SECONDS: positiveInt.max(3600).default(30),
  SMTP_URL: z.preprocess((value) => (value === '' ? undefined : value), smtpUrl.optional()),
  MAIL_FROM: z.string().min(3).default('Tessera <no-reply@tessera.invalid>'),
  PUBLIC_BASE_URL: httpUrl.optional(),
  PUBLIC_HTTP_HOST: z.string().default('127.0.0.1'),
  /** Empty or "off" disables the public listener; unset, it is on (port 3000) in development only. */
  PUBLIC_HTTP_PORT: z.preprocess((value) => (value === '' || value === 'off' ? null : value), port.nullable().optional()),
  MAIL_POLL_INTERVAL_MS: positiveInt.min(10).default(1000),
  MAIL_RETRY_BASE_SECONDS: positiveInt.default(10),
  MAIL_MAX_ATTEMPTS: positiveInt.max(50).default(12),
  ARGON2_MEMORY_KIB: positiveInt.min(8192).default(19456),
  ARGON2_TIME_COST: positiveInt.default(2),
  ARGON2_PARALLELISM: positiveInt.default(1),
  PASSWORD_HASH_CONCURRENCY: positiveInt.default(availableParallelism()),
  PASSWORD_HASH_QUEUE_TIMEOUT_MS: positiveInt.default(5000),
  TESSERA_PEPPER: secret(32).optional(),
  TESSERA_PREVIOUS_PEPPERS: secretList(32).default([]),
  TESSERA_MASTER_KEY: secret(32).optional(),
  TESSERA_PREVIOUS_MASTER_KEYS: secretList(32).default([]),
  TESSERA_EMAIL_INDEX_KEY: secret(32).optional(),
  TESSERA_BOOTSTRAP_ADMIN_EMAIL: z.string().optional(),
  TESSERA_BOOTSTRAP_ADMIN_PASSWORD: z.string().optional(),
  TRUSTED_PROXIES: z.string().default(''),
  AUDIT_RETENTION_DAYS: z.coerce.number().int().min(0).default(0),
  AUDIT_STREAM_MAX_BUFFERED: positiveInt.default(1000),
  AUDIT_STREAM_POLL_MS: positiveInt.default(2000),
  AUDIT_STREAMS_PER_PRINCIPAL: positiveInt.default(300),
  OIDC_PROVIDERS: oidcProviders.default([]),
  OIDC_JWKS_COOLDOWN_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
  USER_DELETE_RETENTION_DAYS: positiveInt.max(3650).default(30),
  SESSION_RETENTION_DAYS: positiveInt.max(3650).default(30),
  ONE_TIME_TOKEN_RETENTION_DAYS: positiveInt.max(3650).default(30),
  MAIL_RETENTION_DAYS: positiveInt.max(3650).default(30),
  AUDIT_PII_RETENTION_DAYS: positiveInt.max(3650).default(90),
  RETENTION_INTERVAL_SECONDS: positiveInt.max(86400).default(60),
  MFA_REQUIRED_ROLES: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((r) => r.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(['user', 'admin', 'auditor']))),
  LOGIN_MAX_FAILURES_PER_ACCOUNT: positiveInt.default(10),
  LOGIN_MAX_FAILURES_PER_IP: positiveInt.default(100),
  LOGIN_FAILURE_WINDOW_SECONDS: positiveInt.default(900),
  LOGIN_LOCK_SECONDS: positiveInt.default(60),
  LOGIN_LOCK_MAX_SECONDS: positiveInt.default(3600),
  REDIS_URL: z.preprocess((value) => (value === '' ? undefined : value), redisUrl.optional()),
  RATE_LIMIT_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be 1 to 64 letters, digits, ".", "_", ":" or "-"')
    .default('tessera'),
  RATE_LIMIT_WINDOW_SECONDS: positiveInt.default(3600),
  RATE_LIMIT_REGISTER_PER_IP: positiveInt.default(30),
  RATE_LIMIT_PASSWORD_RESET_PER_IP: positiveInt.default(30),
  RATE_LIMIT_EMAIL_VERIFICATION_PER_IP: positiveInt.default(30),
  RATE_LIMIT_PROVIDER_LOGIN_PER_IP: positiveInt.default(300),
  MAIL_MAX_PER_ADDRESS_PER_HOUR: positiveInt.default(3),
});

export { ConfigError };
export type { Config } from './config-types.js';

/**
 * Reads and validates the configuration once, at start-up.
 *
 * In development, missing secrets are generated once into `<dataDir>/secrets.json`
 * (with a warning through `warn`); in production their absence is fatal.
 */
/**
 * The log level for start-up, before the whole configuration is validated (so
 * that its errors can be logged): LOG_LEVEL when valid, otherwise "info".
 */
export function startupLogLevel(env: NodeJS.ProcessEnv = process.env): string {
  const parsed = EnvSchema.shape.LOG_LEVEL.safeParse(env.LOG_LEVEL);
  return parsed.success ? parsed.data : 'info';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, warn: (msg: string) => void = () => {}): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  const dataDir = resolve(e.TESSERA_DATA_DIR);
  const secrets = {
    ...resolveSecrets(
      e.NODE_ENV,
      dataDir,
      { pepper: e.TESSERA_PEPPER, masterKey: e.TESSERA_MASTER_KEY, emailIndexKey: e.TESSERA_EMAIL_INDEX_KEY },
      warn,
    ),
    previousPeppers: e.TESSERA_PREVIOUS_PEPPERS,
    previousMasterKeys: e.TESSERA_PREVIOUS_MASTER_KEYS,
  };
  const idleSeconds = e.SESSION_IDLE_TIMEOUT_SECONDS ?? e.REFRESH_TOKEN_TTL_SECONDS ?? 30 * 24 * 3600;
  const tls = tlsSettings(e.TLS_CERT_FILE, e.TLS_KEY_FILE, e.TLS_CLIENT_CA_FILE);
  const publicHttp = publicListener(e.NODE_ENV, e.PUBLIC_HTTP_HOST, e.PUBLIC_HTTP_PORT);
  if (e.NODE_ENV === 'production' && !tls && e.ALLOW_PLAINTEXT !== 'true') {
    const exposed = [
      ['GRPC_HOST', e.GRPC_HOST],
      ['HTTP_HOST', e.HTTP_HOST],
      ...(publicHttp ? [['PUBLIC_HTTP_HOST', publicHttp.host]] : []),
    ].filter(([, host]) => !LOOPBACK_HOSTS.has(host) && host !== '::1');
    if (exposed.length > 0) {
      throw new ConfigError(
        `invalid configuration: ${exposed.map(([name, host]) => `${name}=${host}`).join(', ')} would serve plaintext ` +
          'beyond this machine: set TLS_CERT_FILE and TLS_KEY_FILE, or ALLOW_PLAINTEXT=true (TLS ends at a proxy in front)',
      );
    }
  }
  if (e.NODE_ENV === 'production' && e.PUBLIC_HTTP_PORT != null && !e.PUBLIC_BASE_URL) {
    throw new ConfigError(
      'invalid configuration: PUBLIC_BASE_URL (the address users reach) is required with PUBLIC_HTTP_PORT in production',
    );
  }
  const hasAdminEmail = Boolean(e.TESSERA_BOOTSTRAP_ADMIN_EMAIL);
  if (hasAdminEmail !== Boolean(e.TESSERA_BOOTSTRAP_ADMIN_PASSWORD)) {
    throw new ConfigError(
      'invalid configuration: TESSERA_BOOTSTRAP_ADMIN_EMAIL and TESSERA_BOOTSTRAP_ADMIN_PASSWORD go together',
    );
  }
  return {
    env: e.NODE_ENV,
    dataDir,
    databaseUrl: e.DATABASE_URL,
    keyDatabaseUrl: e.KEY_DATABASE_URL,
    embeddedPostgresPort: e.EMBEDDED_PG_PORT,
    grpc: {
      host: e.GRPC_HOST,
      port: e.GRPC_PORT,
      maxMessageBytes: e.GRPC_MAX_MESSAGE_BYTES,
      shutdownGraceMs: e.SHUTDOWN_GRACE_SECONDS * 1000,
      maxConcurrentStreams: e.GRPC_MAX_CONCURRENT_STREAMS,
      maxConnectionAgeMs: e.GRPC_MAX_CONNECTION_AGE_SECONDS * 1000,
      maxConnectionAgeGraceMs: e.GRPC_MAX_CONNECTION_AGE_GRACE_SECONDS * 1000,
      maxConnectionIdleMs: e.GRPC_MAX_CONNECTION_IDLE_SECONDS * 1000,
    },
    http: { host: e.HTTP_HOST, port: e.HTTP_PORT },
    workers: e.TESSERA_WORKERS,
    tls,
    publicHttp,
    logLevel: e.LOG_LEVEL,
    tracing: { endpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT, serviceName: e.OTEL_SERVICE_NAME },
    tokens: {
      issuer: e.TESSERA_ISSUER,
      audience: e.TESSERA_AUDIENCE,
      accessTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
      sessionIdleTimeoutSeconds: idleSeconds,
      sessionAbsoluteLifetimeSeconds: e.SESSION_ABSOLUTE_LIFETIME_SECONDS,
      refreshReuseGraceSeconds: e.REFRESH_REUSE_GRACE_SECONDS,
      stepUpMaxAgeSeconds: e.STEP_UP_MAX_AGE_SECONDS,
    },
    oneTimeTokens: {
      passwordResetTtlSeconds: e.PASSWORD_RESET_TTL_SECONDS,
      emailVerificationTtlSeconds: e.EMAIL_VERIFICATION_TTL_SECONDS,
    },
    signingKeys: { propagationSeconds: e.SIGNING_KEY_PROPAGATION_SECONDS, reloadSeconds: e.SIGNING_KEYS_RELOAD_SECONDS },
    mail: {
      smtpUrl: e.SMTP_URL,
      from: e.MAIL_FROM,
      publicBaseUrl: e.PUBLIC_BASE_URL?.replace(/\/+$/, ''),
      pollIntervalMs: e.MAIL_POLL_INTERVAL_MS,
      retryBaseSeconds: e.MAIL_RETRY_BASE_SECONDS,
      maxAttempts: e.MAIL_MAX_ATTEMPTS,
    },
    argon2: {
      memoryKib: e.ARGON2_MEMORY_KIB,
      timeCost: e.ARGON2_TIME_COST,
      parallelism: e.ARGON2_PARALLELISM,
      maxConcurrent: e.PASSWORD_HASH_CONCURRENCY,
      queueTimeoutMs: e.PASSWORD_HASH_QUEUE_TIMEOUT_MS,
    },
    secrets,
    bootstrapAdmin: hasAdminEmail
      ? { email: e.TESSERA_BOOTSTRAP_ADMIN_EMAIL!, password: e.TESSERA_BOOTSTRAP_ADMIN_PASSWORD! }
      : undefined,
    trustedProxies: e.TRUSTED_PROXIES.split(',')
      .map((c) => c.trim())
      .filter(Boolean),
    audit: {
      retentionDays: e.AUDIT_RETENTION_DAYS,
      streamMaxBuffered: e.AUDIT_STREAM_MAX_BUFFERED,
      streamPollMs: e.AUDIT_STREAM_POLL_MS,
      streamsPerPrincipal: e.AUDIT_STREAMS_PER_PRINCIPAL,
    },
    oidc: {
      providers: e.OIDC_PROVIDERS.map((p) => ({
        name: p.name,
        issuer: p.issuer,
        jwksUri: p.jwks_uri,
        audience: typeof p.audience === 'string' ? [p.audience] : p.audience,
      })),
      jwksCooldownMs: e.OIDC_JWKS_COOLDOWN_SECONDS * 1000,
    },
    users: { deleteRetentionDays: e.USER_DELETE_RETENTION_DAYS, mfaRequiredRoles: e.MFA_REQUIRED_ROLES },
    retention: {
      sessionDays: e.SESSION_RETENTION_DAYS,
      oneTimeTokenDays: e.ONE_TIME_TOKEN_RETENTION_DAYS,
      mailDays: e.MAIL_RETENTION_DAYS,
      auditPiiDays: e.AUDIT_PII_RETENTION_DAYS,
      auditDays: e.AUDIT_RETENTION_DAYS,
      refreshReuseGraceSeconds: e.REFRESH_REUSE_GRACE_SECONDS,
      intervalMs: e.RETENTION_INTERVAL_SECONDS * 1000,
    },
    rateLimits: {
      redisUrl: e.REDIS_URL,
      keyPrefix: e.RATE_LIMIT_KEY_PREFIX,
      guesses: {
        failuresPerAccount: e.LOGIN_MAX_FAILURES_PER_ACCOUNT,
        failuresPerIp: e.LOGIN_MAX_FAILURES_PER_IP,
        windowSeconds: e.LOGIN_FAILURE_WINDOW_SECONDS,
        lockSeconds: e.LOGIN_LOCK_SECONDS,
        maxLockSeconds: e.LOGIN_LOCK_MAX_SECONDS,
      },
      requests: {
        perClient: {
          register: e.RATE_LIMIT_REGISTER_PER_IP,
          password_reset: e.RATE_LIMIT_PASSWORD_RESET_PER_IP,
          email_verification: e.RATE_LIMIT_EMAIL_VERIFICATION_PER_IP,
          provider_login: e.RATE_LIMIT_PROVIDER_LOGIN_PER_IP,
        },
        windowSeconds: e.RATE_LIMIT_WINDOW_SECONDS,
        mailsPerAddressPerHour: e.MAIL_MAX_PER_ADDRESS_PER_HOUR,
      },
    },
  };
}
