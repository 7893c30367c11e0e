import type { LoginThrottle } from '../auth/login-throttle.js';
import type { Clock } from '../../clock.js';
import type { OidcVerifier } from '../../crypto/oidc.js';
import type { PasswordHasher } from '../../crypto/passwords.js';
import type { SecretBox } from '../../crypto/secret-box.js';
import type { SigningKeyRing } from '../auth/signing-keys.js';

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
  signingKeys: SigningKeyRing;
  /** Encrypts sensitive profile fields at rest. */
  profileBox: SecretBox;
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
  /** Refuses password sign-ins after too many failures for an account or an IP. */
  loginThrottle: LoginThrottle;
}
