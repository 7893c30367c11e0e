import type { Orm } from './db/index.js';
import type { DataKeyStore } from './domain/kernel/data-key-store.js';
import { type Clock } from './clock.js';
import type { Config } from './config.js';
import { OidcVerifier } from './crypto/oidc.js';
import { EmailIndex } from './crypto/email-index.js';
import { ProviderSubjectIndex } from './crypto/provider-subject-index.js';
import { PasswordHasher } from './crypto/passwords.js';
import { masterKeyBoxes } from './crypto/master-key-boxes.js';
import { systemOperation } from './domain/kernel/operation.js';
import type { DomainDeps } from './domain/kernel/operation.js';
import { SigningKeyRing } from './domain/auth/signing-keys.js';
import { totpSecondFactors } from './domain/auth/second-factor-store.js';
import { UserDataKeys } from './domain/kernel/user-data-keys.js';
import { type Logger } from './logger.js';
import { FailClosedGuesses } from './limits/fail-closed-guesses.js';
import { StoreGuessLimiter } from './limits/guess-limiter.js';
import { memoryLimiterStore, rateLimitKeySecret, redisLimiterStore, type LimiterStore } from './limits/limiter-store.js';
import { StoreRequestLimiter } from './limits/request-limiter.js';
import { Metrics } from './metrics.js';

/** The domain's dependencies, with the concrete signing key ring (the server also schedules its reloads). */
export type BuiltDomain = DomainDeps & { signingKeys: SigningKeyRing };

/**
 * The domain's dependencies for a configuration: hashing, keys (the data keys
 * in `keyStore`), encryption, clock, limits. Without a `limiterStore` (the
 * CLI), limits count in memory.
 */
export async function buildDomain(
  config: Config,
  orm: Orm,
  clock: Clock,
  keyStore: DataKeyStore,
  limiterStore: LimiterStore = memoryLimiterStore(rateLimitKeySecret(config.secrets.masterKey)),
): Promise<BuiltDomain> {
  const boxes = masterKeyBoxes(config.secrets.masterKey, config.secrets.previousMasterKeys);
  const signingKeys = new SigningKeyRing(boxes.signingKeys, clock, {
    ...config.signingKeys,
    accessTtlSeconds: config.tokens.accessTtlSeconds,
  });
  const deps: BuiltDomain = {
    clock,
    signingKeys,
    passwords: new PasswordHasher({
      ...config.argon2,
      pepper: config.secrets.pepper,
      previousPeppers: config.secrets.previousPeppers,
    }),
    userKeys: new UserDataKeys(boxes.userKeys, clock, keyStore),
    emailIndex: new EmailIndex(config.secrets.emailIndexKey),
    providerSubjectIndex: new ProviderSubjectIndex(config.secrets.emailIndexKey),
    refreshSuccessorBox: boxes.refreshSuccessors,
    outboxBox: boxes.outbox,
    tokens: config.tokens,
    oneTimeTokens: config.oneTimeTokens,
    oidc: new OidcVerifier(config.oidc.providers, { jwksCooldownMs: config.oidc.jwksCooldownMs }),
    userDeleteRetentionDays: config.users.deleteRetentionDays,
    mfaRequiredRoles: config.users.mfaRequiredRoles,
    guesses: new FailClosedGuesses(new StoreGuessLimiter(limiterStore, config.rateLimits.guesses)),
    requestLimits: new StoreRequestLimiter(limiterStore, config.rateLimits.requests),
    secondFactors: totpSecondFactors,
  };
  await signingKeys.initialize(systemOperation(deps, orm.em.fork(), 'startup'));
  return deps;
}

/** Where the limit counters live: Redis with REDIS_URL (shared by the instances), otherwise this instance's memory. */
export function openLimiterStore(config: Config, log: Logger, metrics: Metrics): Promise<LimiterStore> {
  const keySecret = rateLimitKeySecret(config.secrets.masterKey);
  if (!config.rateLimits.redisUrl) return Promise.resolve(memoryLimiterStore(keySecret));
  return redisLimiterStore(
    {
      url: config.rateLimits.redisUrl,
      keyPrefix: config.rateLimits.keyPrefix,
      keySecret,
      connectTimeoutMs: 3000,
      // Redis answers in well under a millisecond here; a second means it hangs, and Login must not wait longer.
      commandTimeoutMs: 1000,
    },
    log,
    metrics,
  );
}
