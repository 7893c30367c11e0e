import {
  calculateJwkThumbprint,
  decodeProtectedHeader,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  SignJWT,
  type CryptoKey,
  type JSONWebKeySet,
  type JWK,
} from 'jose';
import { randomUUID } from 'node:crypto';

/** The only algorithm Tessera signs with and accepts. */
export const ACCESS_TOKEN_ALG = 'EdDSA';
/** RFC 9068 media type of access tokens; checked on verification. */
const ACCESS_TOKEN_TYP = 'at+jwt';

/** A public key as published in the JWKS (RFC 7517 members). */
export interface PublicJwk {
  kty: string;
  crv: string;
  x: string;
  kid: string;
  alg: string;
  use: string;
}

export interface GeneratedSigningKey {
  kid: string;
  publicJwk: PublicJwk;
  /** The private JWK; the caller encrypts it before it is stored. */
  privateJwk: JWK;
}

/** Makes an Ed25519 key pair whose kid is its RFC 7638 thumbprint. */
export async function generateSigningKey(): Promise<GeneratedSigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(ACCESS_TOKEN_ALG, { crv: 'Ed25519', extractable: true });
  const pub = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(pub);
  const publicJwk: PublicJwk = { kty: pub.kty!, crv: pub.crv!, x: pub.x!, kid, alg: ACCESS_TOKEN_ALG, use: 'sig' };
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: ACCESS_TOKEN_ALG };
  return { kid, publicJwk, privateJwk };
}

/** Imports a private JWK for signing. */
export async function importSigningKey(privateJwk: JWK): Promise<CryptoKey> {
  return (await importJWK(privateJwk, ACCESS_TOKEN_ALG)) as CryptoKey;
}

export interface AccessTokenClaims {
  /** User (or service account) id. */
  sub: string;
  /** Session id. */
  sid: string;
  role: string;
}

export interface VerifiedAccessToken extends AccessTokenClaims {
  jti: string;
  exp: number;
  iat: number;
}

export interface TokenSettings {
  issuer: string;
  audience: string;
}

/** Signs an access token (RFC 9068 shape) with the given key. */
export async function signAccessToken(
  key: { kid: string; privateKey: CryptoKey },
  claims: AccessTokenClaims,
  settings: TokenSettings & { now: Date; ttlSeconds: number },
): Promise<{ token: string; expiresAt: Date; jti: string }> {
  const iat = Math.floor(settings.now.getTime() / 1000);
  const exp = iat + settings.ttlSeconds;
  const jti = randomUUID();
  const token = await new SignJWT({ sid: claims.sid, role: claims.role })
    .setProtectedHeader({ alg: ACCESS_TOKEN_ALG, typ: ACCESS_TOKEN_TYP, kid: key.kid })
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setSubject(claims.sub)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .setJti(jti)
    .sign(key.privateKey);
  return { token, expiresAt: new Date(exp * 1000), jti };
}

/** Resolves a token's kid to a public key; build once per key set. */
export type KeyResolver = ReturnType<typeof createLocalJWKSet>;

/** Builds the verification key resolver for a published key set. */
export function buildKeyResolver(keys: JSONWebKeySet): KeyResolver {
  return createLocalJWKSet(keys);
}

/** Raised for any token that must not be accepted; the reason is for logs only. */
export class InvalidTokenError extends Error {}

/**
 * Verifies an access token against the published keys, pinning algorithm,
 * type, issuer and audience. `alg: none`, HS256 (with any key), unknown kids,
 * expired and tampered tokens all fail.
 */
export async function verifyAccessToken(
  token: string,
  keys: KeyResolver,
  settings: TokenSettings & { now: Date },
): Promise<VerifiedAccessToken> {
  try {
    const { payload } = await jwtVerify(token, keys, {
      algorithms: [ACCESS_TOKEN_ALG],
      typ: ACCESS_TOKEN_TYP,
      issuer: settings.issuer,
      audience: settings.audience,
      currentDate: settings.now,
      requiredClaims: ['sub', 'sid', 'jti', 'exp', 'iat'],
    });
    if (typeof payload.sid !== 'string' || typeof payload.role !== 'string') {
      throw new InvalidTokenError('missing sid or role claim');
    }
    return {
      sub: payload.sub!,
      sid: payload.sid,
      role: payload.role,
      jti: payload.jti!,
      exp: payload.exp!,
      iat: payload.iat!,
    };
  } catch (err) {
    if (err instanceof InvalidTokenError) throw err;
    throw new InvalidTokenError((err as Error).message);
  }
}

/** The `kid` of a compact JWS's protected header, without verifying anything; undefined when unreadable. */
export function accessTokenKid(token: string): string | undefined {
  try {
    return decodeProtectedHeader(token).kid;
  } catch {
    return undefined;
  }
}

/** The JOSE `typ` of an erasure receipt: never accepted where an access token is expected. */
const ERASURE_RECEIPT_TYP = 'erasure-receipt+jwt';

/** Signs an erasure receipt (a JWS over `claims`) with the service's signing key. */
export async function signErasureReceipt(
  key: { kid: string; privateKey: CryptoKey },
  claims: Record<string, unknown>,
  settings: { issuer: string; now: Date },
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: ACCESS_TOKEN_ALG, typ: ERASURE_RECEIPT_TYP, kid: key.kid })
    .setIssuer(settings.issuer)
    .setIssuedAt(Math.floor(settings.now.getTime() / 1000))
    .setJti(randomUUID())
    .sign(key.privateKey);
}
