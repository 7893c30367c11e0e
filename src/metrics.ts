import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Prometheus metrics of one server instance (its own registry, so tests can run several). */
export class Metrics {
  readonly registry = new Registry();

  readonly rpcDuration = new Histogram({
    name: 'tessera_grpc_server_handling_seconds',
    help: 'Time to handle a gRPC call, by method and status code.',
    labelNames: ['method', 'code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly databaseUp = new Gauge({
    name: 'tessera_database_up',
    help: '1 while the database answers health checks.',
    registers: [this.registry],
  });

  readonly keyStoreUp = new Gauge({
    name: 'tessera_key_store_up',
    help: '1 while the key store (the data keys database) answers health checks.',
    registers: [this.registry],
  });

  readonly loginAttempts = new Counter({
    name: 'tessera_login_attempts_total',
    help: 'Password sign-in attempts by outcome (success, mfa_required: the password was right and a second factor is asked, failure).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly rateLimitStoreShared = new Gauge({
    name: 'tessera_rate_limit_store_shared',
    help: '1 while rate limit counters are shared through Redis; 0 without REDIS_URL or while Redis is unreachable (guesses refused, other limits counted in memory).',
    registers: [this.registry],
  });

  readonly rateLimitFallbacks = new Counter({
    name: 'tessera_rate_limit_fallbacks_total',
    help: "Rate limit counter operations that fell back to this instance's memory because Redis could not be reached.",
    registers: [this.registry],
  });

  readonly rateLimitUnavailable = new Counter({
    name: 'tessera_rate_limit_unavailable_total',
    help: 'Guess counter operations refused (UNAVAILABLE, reason RATE_LIMITS_UNAVAILABLE) because Redis could not be reached.',
    registers: [this.registry],
  });

  /** Exposes the audit stream's subscriber count and overflow counter. */
  trackAuditStream(stats: () => { subscribers: number; overflows: number }): void {
    new Gauge({
      name: 'tessera_audit_stream_subscribers',
      help: 'Audit event streams open on this instance.',
      registers: [this.registry],
      collect() {
        this.set(stats().subscribers);
      },
    });
    new Gauge({
      name: 'tessera_audit_stream_overflows',
      help: 'Times a slow audit stream subscriber fell back to reading from the table.',
      registers: [this.registry],
      collect() {
        this.set(stats().overflows);
      },
    });
  }
  readonly mailDeliveries = new Counter({
    name: 'tessera_mail_deliveries_total',
    help: 'Outbox delivery attempts by outcome (sent, retry, failed).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly retentionRemoved = new Counter({
    name: 'tessera_retention_removed_total',
    help: 'Records the retention job removed on this instance, by kind (sessions, one_time_tokens, mail, users_erased, audit_events_scrubbed, audit_events_deleted, refresh_successors_cleared, refresh_history_pruned, mfa_challenges, orphan_data_keys).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly retentionRuns = new Counter({
    name: 'tessera_retention_runs_total',
    help: 'Retention runs started on this instance by outcome: completed, skipped (another instance held the lock), failed.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly retentionLastRun = new Gauge({
    name: 'tessera_retention_last_run_timestamp_seconds',
    help: 'When this instance last completed a retention run (Unix time).',
    registers: [this.registry],
  });

  readonly retentionDuration = new Histogram({
    name: 'tessera_retention_run_duration_seconds',
    help: 'How long the completed retention runs of this instance took.',
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600],
    registers: [this.registry],
  });

  /** Filled on each scrape by `countLegacyPasswordHashes` (set by the composition root). */
  countLegacyPasswordHashes: (() => Promise<Record<string, number>>) | undefined;

  readonly legacyPasswordHashes = new Gauge({
    name: 'tessera_legacy_password_hashes',
    help: 'Stored password hashes not yet upgraded to argon2id with the current pepper, by scheme (bcrypt, pbkdf2, argon2). They are rehashed at the next sign-in.',
    labelNames: ['scheme'] as const,
    registers: [this.registry],
    collect: async () => {
      if (!this.countLegacyPasswordHashes) return;
      const counts = await this.countLegacyPasswordHashes();
      for (const scheme of ['bcrypt', 'pbkdf2', 'argon2']) this.legacyPasswordHashes.set({ scheme }, counts[scheme] ?? 0);
    },
  });

  constructor(options: { collectDefaults?: boolean } = {}) {
    if (options.collectDefaults) collectDefaultMetrics({ register: this.registry });
  }
}
