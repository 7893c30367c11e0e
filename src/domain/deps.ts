import type { Clock } from '../clock.js';
import type { OidcVerifier } from '../crypto/oidc.js';
import type { PasswordHasher } from '../crypto/passwords.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { SigningKeyRing } from './signing-keys.js';

/** Token settings the domain needs. */
export interface TokenPolicy {
  issuer: string;
  audience: string;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
}

/** What domain operations depend on, built once by the composition root. */
export interface DomainDeps {
  clock: Clock;
  passwords: PasswordHasher;
  signingKeys: SigningKeyRing;
  /** Encrypts sensitive profile fields at rest. */
  profileBox: SecretBox;
  tokens: TokenPolicy;
  /** Verifies ID tokens of the configured OpenID Connect providers. */
  oidc: OidcVerifier;
  /** Soft-deleted accounts can be restored for this many days. */
  userDeleteRetentionDays: number;
}
