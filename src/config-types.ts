import type { RetentionWindows } from './domain/compliance/retention.js';
import type { OneTimeTokenPolicy, TokenPolicy } from './domain/kernel/operation.js';
import type { GuessLimitSettings } from './limits/guess-limiter.js';
import type { RequestLimitSettings } from './limits/request-limiter.js';
import type { TracingSettings } from './telemetry/tracing.js';
import type { TlsFileSettings } from './tls/certificate-files.js';

/** Typed, validated settings, as `loadConfig` in src/config.ts (the only module that reads `process.env`) makes them. */
export interface Config {
  env: 'development' | 'test' | 'production';
  dataDir: string;
  databaseUrl: string | undefined;
  /** The key store's PostgreSQL; undefined: `<main database>_keys` on the main database's server. */
  keyDatabaseUrl: string | undefined;
  embeddedPostgresPort: number;
  grpc: {
    host: string;
    port: number;
    /** Largest request message; responses are bounded by page sizes. */
    maxMessageBytes: number;
    shutdownGraceMs: number;
    /** Concurrent streams (calls) one connection may have open. */
    maxConcurrentStreams: number;
    /** A connection is asked to go away (GOAWAY) after this long, so load balancers can rebalance. */
    maxConnectionAgeMs: number;
    /** Calls still running on an aged connection get this long before it is closed. */
    maxConnectionAgeGraceMs: number;
    /** A connection without calls for this long is closed. */
    maxConnectionIdleMs: number;
  };
  http: { host: string; port: number };
  /** Server processes `tessera start` runs on the same ports (node:cluster); 1: this process alone. */
  workers: number;
  /** Certificate files of every listener; undefined: plaintext. */
  tls: TlsFileSettings | undefined;
  /** The public listener serving the pages behind mailed links; undefined when off. */
  publicHttp: { host: string; port: number } | undefined;
  logLevel: string;
  /** OpenTelemetry traces: off unless an endpoint is set. */
  tracing: TracingSettings;
  tokens: TokenPolicy;
  oneTimeTokens: OneTimeTokenPolicy;
  signingKeys: { propagationSeconds: number; reloadSeconds: number };
  mail: {
    smtpUrl: string | undefined;
    from: string;
    /** Where mailed links point; undefined: at the public listener (or http://127.0.0.1:3000 without one). */
    publicBaseUrl: string | undefined;
    pollIntervalMs: number;
    retryBaseSeconds: number;
    maxAttempts: number;
  };
  argon2: { memoryKib: number; timeCost: number; parallelism: number; maxConcurrent: number; queueTimeoutMs: number };
  secrets: {
    pepper: Buffer;
    previousPeppers: Buffer[];
    masterKey: Buffer;
    previousMasterKeys: Buffer[];
    /** Keys the email blind index (users.email_index); never rotated, see the README's Privacy section. */
    emailIndexKey: Buffer;
  };
  bootstrapAdmin: { email: string; password: string } | undefined;
  /** CIDRs of proxies whose x-forwarded-for is believed. */
  trustedProxies: string[];
  audit: { retentionDays: number; streamMaxBuffered: number; streamPollMs: number; streamsPerPrincipal: number };
  oidc: { providers: OidcProviderConfig[]; jwksCooldownMs: number };
  users: {
    deleteRetentionDays: number;
    /** Roles whose sign-in needs a second factor: without one, they must enroll before getting tokens. */
    mfaRequiredRoles: string[];
  };
  /** The retention job's windows (days) and how often it runs. */
  retention: RetentionWindows & { intervalMs: number };
  rateLimits: {
    /** Where the counters of every instance live; undefined: each instance's memory. */
    redisUrl: string | undefined;
    keyPrefix: string;
    guesses: GuessLimitSettings;
    requests: RequestLimitSettings;
  };
}

/** An OpenID Connect provider whose ID tokens sign users in (AuthService.LoginWithProvider). */
interface OidcProviderConfig {
  /** What clients pass as `provider`, e.g. "google". */
  name: string;
  /** The exact "iss" of its ID tokens. */
  issuer: string;
  /** Where its signing keys are published. */
  jwksUri: string;
  /** Tessera's client id(s) at the provider: the accepted "aud" values. */
  audience: string[];
}
