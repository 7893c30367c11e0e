import { createRemoteJWKSet, errors, jwtVerify } from 'jose';

/** One OpenID Connect provider, as configured (OIDC_PROVIDERS). */
export interface OidcProvider {
  name: string;
  issuer: string;
  jwksUri: string;
  audience: string[];
}

/** What Tessera uses of a verified ID token. */
export interface IdTokenClaims {
  /** The provider's stable id of the user. */
  sub: string;
  /** As asserted by the provider; not normalized. */
  email: string | undefined;
  /** True only if the provider asserted it (boolean true, or the string "true" some providers send). */
  emailVerified: boolean;
  name: string | undefined;
  /** The provider's RFC 8176 authentication methods (the "amr" claim); empty when absent. */
  amr: string[];
}

/** The token must not be accepted: bad signature, issuer, audience, expiry or shape. The message is for logs. */
export class InvalidIdTokenError extends Error {}

/** The provider's keys could not be fetched: a fault on their side or the network, not the caller's. */
export class ProviderUnavailableError extends Error {}

/** Signature algorithms providers use; symmetric ones (HS*) and "none" are never accepted. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
/** Tolerated clock difference with the provider, for exp, nbf and iat. */
const CLOCK_TOLERANCE_SECONDS = 60;
const JWKS_TIMEOUT_MS = 5000;

/**
 * Verifies ID tokens of the configured providers. Each provider's JWKS is
 * fetched on first use and cached (jose's remote key set: refreshed after 10
 * minutes, and at once when a token names an unknown kid, at most once per
 * cooldown so forged kids cannot make us hammer the provider).
 */
export class OidcVerifier {
  private readonly providers = new Map<string, { config: OidcProvider; keys: ReturnType<typeof createRemoteJWKSet> }>();

  constructor(providers: OidcProvider[], options: { jwksCooldownMs: number }) {
    for (const config of providers) {
      const keys = createRemoteJWKSet(new URL(config.jwksUri), {
        cooldownDuration: options.jwksCooldownMs,
        timeoutDuration: JWKS_TIMEOUT_MS,
      });
      this.providers.set(config.name, { config, keys });
    }
  }

  /** The configured provider names, in configuration order. */
  names(): string[] {
    return [...this.providers.keys()];
  }

  has(name: string): boolean {
    return this.providers.has(name);
  }

  /** Verifies signature, issuer, audience and expiry; returns the claims Tessera uses. */
  async verify(providerName: string, idToken: string, now: Date): Promise<IdTokenClaims> {
    const provider = this.providers.get(providerName);
    if (!provider) throw new InvalidIdTokenError(`unknown provider ${providerName}`);
    try {
      const { payload } = await jwtVerify(idToken, provider.keys, {
        algorithms: ALGORITHMS,
        issuer: provider.config.issuer,
        audience: provider.config.audience,
        currentDate: now,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['sub', 'exp', 'iat'],
      });
      if (typeof payload.sub !== 'string' || payload.sub === '' || payload.sub.length > 255) {
        throw new InvalidIdTokenError('sub must be a string of 1 to 255 characters');
      }
      return {
        sub: payload.sub,
        email: typeof payload.email === 'string' ? payload.email : undefined,
        emailVerified: payload.email_verified === true || payload.email_verified === 'true',
        name: typeof payload.name === 'string' ? payload.name : undefined,
        amr: Array.isArray(payload.amr) ? payload.amr.filter((m): m is string => typeof m === 'string').slice(0, 16) : [],
      };
    } catch (err) {
      if (err instanceof InvalidIdTokenError) throw err;
      if (isKeyFetchFailure(err))
        throw new ProviderUnavailableError(`${providerName}: ${(err as Error).message}`, { cause: err });
      throw new InvalidIdTokenError((err as Error).message, { cause: err });
    }
  }
}

/** Errors of fetching the key set (network, timeout, non-200, not a JWKS), as opposed to the token's own faults. */
function isKeyFetchFailure(err: unknown): boolean {
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) return true;
  if (err instanceof errors.JOSEError) return err.code === errors.JOSEError.code;
  return true;
}
