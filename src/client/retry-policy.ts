/**
 * The read-only RPCs: calling one twice changes nothing, so a client may
 * retry it after UNAVAILABLE (a restarting instance, a dropped connection).
 * Writes are never retried automatically: a Register or Login that reached
 * the server before the connection dropped must not run twice.
 */
export const IDEMPOTENT_READS: Readonly<Record<string, readonly string[]>> = {
  'tessera.v1.AuthService': ['GetJwks', 'IntrospectToken', 'ListSessions'],
  'tessera.v1.ProfileService': ['GetProfile'],
  'tessera.v1.IdentityService': ['GetUser', 'ListUsers', 'ListServiceAccounts', 'ListSocialLogins'],
  'tessera.v1.ComplianceService': ['ListAuditEvents'],
};

/** How often and how fast a read is retried. */
export interface RetryOptions {
  /** Attempts in all, the first included (grpc-js caps it at 5). */
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { maxAttempts: 4, initialBackoffMs: 100, maxBackoffMs: 2000 };

/**
 * The gRPC service config (`grpc.service_config` channel option) retrying
 * the idempotent reads on UNAVAILABLE with exponential backoff and jitter.
 * grpc-js applies it below the interceptors, so every attempt carries the
 * same metadata and the call's one deadline bounds them all.
 */
export function readRetryServiceConfig(retry: RetryOptions = DEFAULT_RETRY): string {
  const name = Object.entries(IDEMPOTENT_READS).flatMap(([service, methods]) => methods.map((method) => ({ service, method })));
  return JSON.stringify({
    methodConfig: [
      {
        name,
        retryPolicy: {
          maxAttempts: retry.maxAttempts,
          initialBackoff: `${retry.initialBackoffMs / 1000}s`,
          maxBackoff: `${retry.maxBackoffMs / 1000}s`,
          backoffMultiplier: 2,
          retryableStatusCodes: ['UNAVAILABLE'],
        },
      },
    ],
  });
}
