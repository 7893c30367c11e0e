import {
  calculateJwkThumbprint,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importJWK,
  SignJWT,
  type CryptoKey,
  type JSONWebKeySet,
  type JWK,
} from 'jose';
import { createPublicKey, KeyObject, randomUUID, sign, verify, type webcrypto } from 'node:crypto';

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
  /** When the user last proved who they are ("auth_time", whole seconds). */
  authTime: Date;
  /** How they did: RFC 8176 method values ("amr"). */
  amr: string[];
  /** The assurance level reached ("acr"): "aal1" or "aal2". */
  acr: string;
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

/** The node:crypto form of each signing key, made once: signing runs on every Login and RefreshToken. */
const signingKeyObjects = new WeakMap<CryptoKey, KeyObject>();

function keyObjectOf(key: CryptoKey): KeyObject {
  let object = signingKeyObjects.get(key);
  if (!object) {
    object = KeyObject.from(key as unknown as webcrypto.CryptoKey);
    signingKeyObjects.set(key, object);
  }
  return object;
}

const encodeSegment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * Signs an access token (RFC 9068 shape) with the given key. Ed25519 signing is
 * synchronous node:crypto (tens of microseconds): WebCrypto's version queues the
 * same work on the libuv pool, behind running password hashes.
 */
export async function signAccessToken(
  key: { kid: string; privateKey: CryptoKey },
  claims: AccessTokenClaims,
  settings: TokenSettings & { now: Date; ttlSeconds: number },
): Promise<{ token: string; expiresAt: Date; jti: string }> {
  const iat = Math.floor(settings.now.getTime() / 1000);
  const exp = iat + settings.ttlSeconds;
  const jti = randomUUID();
  const header = encodeSegment({ alg: ACCESS_TOKEN_ALG, typ: ACCESS_TOKEN_TYP, kid: key.kid });
  const payload = encodeSegment({
    sid: claims.sid,
    role: claims.role,
    iss: settings.issuer,
    aud: settings.audience,
    sub: claims.sub,
    auth_time: Math.floor(claims.authTime.getTime() / 1000),
    amr: claims.amr,
    acr: claims.acr,
    iat,
    exp,
    jti,
  });
  const signingInput = `${header}.${payload}`;
  const signature = sign(null, Buffer.from(signingInput), keyObjectOf(key.privateKey)).toString('base64url');
  return { token: `${signingInput}.${signature}`, expiresAt: new Date(exp * 1000), jti };
}

/** The published verification keys by kid; build once per key set. */
export interface KeyResolver {
  readonly byKid: ReadonlyMap<string, KeyObject>;
  /**
   * Signed parts (`header.payload.signature`) whose signature already held under
   * these keys: a client presents one access token on many calls, and Ed25519
   * verification was the largest item of an authenticated read left. It lives
   * and dies with the key set, so a key that is no longer published stops
   * verifying at once; the claims (expiry, issuer, audience) are checked on every call.
   */
  readonly verified: Set<string>;
}

/** How many verified signatures a key set remembers (about 2 MB of tokens); the oldest go first. */
const VERIFIED_SIGNATURES_KEPT = 4096;

/**
 * Builds the verification keys of a published key set: Ed25519 keys ("OKP",
 * "Ed25519") with a kid, meant for signatures with EdDSA. Anything else is left out.
 */
export function buildKeyResolver(keys: JSONWebKeySet): KeyResolver {
  const byKid = new Map<string, KeyObject>();
  for (const jwk of keys.keys) {
    if (typeof jwk.kid !== 'string' || jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519') continue;
    if ((jwk.alg !== undefined && jwk.alg !== ACCESS_TOKEN_ALG) || (jwk.use !== undefined && jwk.use !== 'sig')) continue;
    byKid.set(jwk.kid, createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' }));
  }
  return { byKid, verified: new Set() };
}

/** Raised for any token that must not be accepted; the reason is for logs only. */
export class InvalidTokenError extends Error {}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** A JSON object from a base64url segment, or InvalidTokenError. */
function decodeObject(segment: string, what: string): Record<string, unknown> {
  if (!BASE64URL.test(segment)) throw new InvalidTokenError(`${what} is not base64url`);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidTokenError(`${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new InvalidTokenError(`${what} is not an object`);
  return value as Record<string, unknown>;
}

/** A signature of the wrong length makes node:crypto throw: that is a failed check too. */
function signatureHolds(signingInput: string, key: KeyObject, signature: Buffer): boolean {
  try {
    return verify(null, Buffer.from(signingInput), key, signature);
  } catch {
    return false;
  }
}

/** RFC 8725 3.11: "at+jwt" and "application/at+jwt", in any letter case. */
function isAccessTokenTyp(typ: unknown): boolean {
  return typeof typ === 'string' && typ.toLowerCase().replace(/^application\//, '') === ACCESS_TOKEN_TYP;
}

/**
 * Verifies an access token against the published keys, pinning algorithm,
 * type, key id, issuer and audience, and requiring sub, sid, role, jti, exp
 * and iat. `alg: none`, HS256 (with any key), `crit` extensions, unknown or
 * missing kids, expired, not-yet-valid and tampered tokens all fail.
 *
 * Synchronous node:crypto Ed25519 (about 100 us) rather than WebCrypto, whose
 * verification waits in the libuv pool behind password hashes; the signature
 * is checked before the payload is read.
 */
export async function verifyAccessToken(
  token: string,
  keys: KeyResolver,
  settings: TokenSettings & { now: Date },
): Promise<VerifiedAccessToken> {
  const parts = token.split('.');
  if (parts.length !== 3) throw new InvalidTokenError('not a compact JWS');
  const [encodedHeader, encodedPayload, encodedSignature] = parts;
  const header = decodeObject(encodedHeader, 'header');
  if (header.alg !== ACCESS_TOKEN_ALG) throw new InvalidTokenError('unexpected alg');
  if (!isAccessTokenTyp(header.typ)) throw new InvalidTokenError('unexpected typ');
  if (header.crit !== undefined) throw new InvalidTokenError('unsupported crit header');
  const key = typeof header.kid === 'string' ? keys.byKid.get(header.kid) : undefined;
  if (!key) throw new InvalidTokenError('no published key for this kid');
  if (!BASE64URL.test(encodedSignature)) throw new InvalidTokenError('signature is not base64url');
  if (!keys.verified.has(token)) {
    if (!signatureHolds(`${encodedHeader}.${encodedPayload}`, key, Buffer.from(encodedSignature, 'base64url'))) {
      throw new InvalidTokenError('signature verification failed');
    }
    if (keys.verified.size >= VERIFIED_SIGNATURES_KEPT) keys.verified.delete(keys.verified.values().next().value!);
    keys.verified.add(token);
  }
  const payload = decodeObject(encodedPayload, 'payload');
  const now = Math.floor(settings.now.getTime() / 1000);
  if (payload.iss !== settings.issuer) throw new InvalidTokenError('unexpected iss');
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (!audiences.includes(settings.audience)) throw new InvalidTokenError('unexpected aud');
  const { sub, sid, role, jti, exp, iat, nbf } = payload;
  if (typeof sub !== 'string' || typeof jti !== 'string' || typeof sid !== 'string' || typeof role !== 'string') {
    throw new InvalidTokenError('missing sub, sid, role or jti claim');
  }
  if (typeof exp !== 'number' || typeof iat !== 'number') throw new InvalidTokenError('missing exp or iat claim');
  if (exp <= now) throw new InvalidTokenError('expired');
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > now)) throw new InvalidTokenError('not yet valid');
  return { sub, sid, role, jti, exp, iat, ...assuranceClaims(payload) };
}

/**
 * auth_time, amr and acr, type-checked. A token signed before they existed
 * stays valid until it expires, as if its user authenticated at the epoch
 * with nothing: never recent enough for a step-up.
 */
function assuranceClaims(payload: Record<string, unknown>): Pick<AccessTokenClaims, 'authTime' | 'amr' | 'acr'> {
  const { auth_time: authTime = 0, amr = [], acr = 'aal1' } = payload;
  if (typeof authTime !== 'number' || !Number.isFinite(authTime)) throw new InvalidTokenError('auth_time is not a number');
  if (!Array.isArray(amr) || !amr.every((method) => typeof method === 'string'))
    throw new InvalidTokenError('amr is not an array of strings');
  if (typeof acr !== 'string') throw new InvalidTokenError('acr is not a string');
  return { authTime: new Date(authTime * 1000), amr: amr as string[], acr };
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
