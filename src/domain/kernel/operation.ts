import type { Clock } from '../../clock.js';
import type { OidcVerifier } from '../../crypto/oidc.js';
import type { EmailIndex } from '../../crypto/email-index.js';
import type { ProviderSubjectIndex } from '../../crypto/provider-subject-index.js';
import type { PasswordHasher } from '../../crypto/passwords.js';
import type { SecretBox } from '../../crypto/secret-box.js';
import type { UserDataKeys } from './user-data-keys.js';
import type { EntityManager } from '../../db/index.js';
import type { Principal } from './principal.js';
import type { GuessLimiter, RequestLimiter } from './rate-limits.js';
import type { CryptoKey } from 'jose';
import type { KeyResolver, PublicJwk } from '../../crypto/tokens.js';

/** Token and session settings the domain needs. */
export interface TokenPolicy {
  issuer: string;
  audience: string;
  accessTtlSeconds: number;
  /** A refresh token lapses after this long unused (each refresh renews it). */
  sessionIdleTimeoutSeconds: number;
  /** No refresh extends a session past its creation plus this. */
  sessionAbsoluteLifetimeSeconds: number;
  /** How long a just-rotated refresh token still yields the same successor (concurrent refreshes). */
  refreshReuseGraceSeconds: number;
  /** RPCs that declare a step-up need an authentication at most this old (AccessPolicy.step_up). */
  stepUpMaxAgeSeconds: number;
}

/** Lifetimes of the single-use tokens sent by mail. */
export interface OneTimeTokenPolicy {
  passwordResetTtlSeconds: number;
  emailVerificationTtlSeconds: number;
}

/** What domain operations depend on, built once by the composition root. */
export interface DomainDeps {
  clock: Clock;
  passwords: PasswordHasher;
  signingKeys: SigningKeys;
  /** The users' data keys: their personal fields are sealed under them. */
  userKeys: UserDataKeys;
  /** The keyed blind index of email addresses (users.email_index, one_time_tokens.email_index). */
  emailIndex: EmailIndex;
  /** The keyed blind index of provider accounts (social_logins.provider_subject_index). */
  providerSubjectIndex: ProviderSubjectIndex;
  /** Encrypts the successor of a rotated refresh token for the reuse grace window. */
  refreshSuccessorBox: SecretBox;
  /** Encrypts queued mail (addresses, links with tokens) until it is delivered. */
  outboxBox: SecretBox;
  tokens: TokenPolicy;
  oneTimeTokens: OneTimeTokenPolicy;
  /** Verifies ID tokens of the configured OpenID Connect providers. */
  oidc: OidcVerifier;
  /** Soft-deleted accounts can be restored for this many days. */
  userDeleteRetentionDays: number;
  /** Roles whose sign-in needs a second factor (MFA_REQUIRED_ROLES). */
  mfaRequiredRoles: readonly string[];
  /** Counts every password guess before it is checked, per account and per client (kernel/rate-limits.ts). */
  guesses: GuessLimiter;
  /** Per-client limits of the anonymous calls, per-address limits of the mail they send. */
  requestLimits: RequestLimiter;
  /** The accounts' second factors, as step-up and Reauthenticate ask about them (auth/second-factor.ts). */
  secondFactors: SecondFactorStore;
}

/** What step-up and Reauthenticate need to know of an account's second factors. */
export interface SecondFactorStore {
  /** Whether the user has a second factor that sign-ins and step-ups must demand. */
  hasActive(op: Operation, userId: string): Promise<boolean>;
  /**
   * Whether `code` is a valid, unused code of the user's active factor; a
   * valid one is used up (a replay within its window fails). Only checks: the
   * caller has counted the guess.
   */
  verifyCode(op: Operation, userId: string, code: string): Promise<boolean>;
}

/** The key that signs new access tokens. */
export interface ActiveSigningKey {
  kid: string;
  privateKey: CryptoKey;
}

/** What a rotation did. */
export interface RotationResult {
  /** Whether the next key was promoted to sign (false: it was published too recently). */
  promoted: boolean;
  activeKid: string;
  nextKid: string;
  /** The key that stopped signing, when promoted. */
  retiredKid: string | null;
  /** When a promotion becomes possible without `immediate`, when not promoted. */
  promotableAt: Date | null;
}

/** The service's token signing keys, as operations use them (auth/signing-keys.ts's SigningKeyRing). */
export interface SigningKeys {
  /** The key that signs new tokens. */
  signer(): ActiveSigningKey;
  /** The public keys to publish (RFC 7517). */
  jwks(): PublicJwk[];
  /** The verification key resolver for the published keys. */
  keyResolver(): KeyResolver;
  /** Reloads when a kid is unknown (another instance may just have rotated); returns whether it reloaded. */
  reloadForUnknownKid(em: EntityManager, kid: string | undefined): Promise<boolean>;
  /** Rotates without downtime: publish first, sign later, keep retired keys published until their tokens expire. */
  rotate(op: Operation, options: { immediate: boolean }): Promise<RotationResult>;
}

/** Facts about the request that audit events record. Built by the transport layer. */
interface RequestFacts {
  requestId: string;
  ip: string | null;
  userAgent: string | null;
  /** Aborted when the client cancels, the deadline passes or the server shuts down. */
  signal: AbortSignal;
  /** When the client stops waiting (its deadline, epoch milliseconds); unset: it set none. */
  deadline?: number;
}

/**
 * What one domain operation works with: the service's dependencies, the
 * request's own EntityManager, who asks, the clock, and the request facts.
 * The transport layer builds one per call; a CLI command or a job builds one
 * with {@link systemOperation}. Domain functions take `(op, input)`.
 */
export interface Operation extends RequestFacts {
  readonly deps: DomainDeps;
  readonly em: EntityManager;
  readonly principal: Principal;
  readonly clock: Clock;
}

/** An operation for work the service does on its own (start-up, CLI, jobs). */
export function systemOperation(deps: DomainDeps, em: EntityManager, requestId = 'system'): Operation {
  return {
    deps,
    em,
    clock: deps.clock,
    principal: { kind: 'system' },
    requestId,
    ip: null,
    userAgent: null,
    signal: new AbortController().signal,
  };
}
