/**
 * Authentication assurance: which methods a sign-in used (RFC 8176 "amr")
 * and the level they reach (NIST SP 800-63B: "aal1", "aal2").
 */

/** The assurance level of a session's last proof of identity. */
export type AssuranceLevel = 'aal1' | 'aal2';

/** How and when a session's user last proved who they are. */
export interface Assurance {
  authenticatedAt: Date;
  amr: string[];
  acr: AssuranceLevel;
}

/** What kind of factor each RFC 8176 method is; methods not listed (mfa, user, rba, geo, ...) are no factor of their own. */
const FACTOR_KINDS: Readonly<Record<string, 'knowledge' | 'possession' | 'inherence'>> = {
  pwd: 'knowledge',
  pin: 'knowledge',
  kba: 'knowledge',
  otp: 'possession',
  hwk: 'possession',
  swk: 'possession',
  sc: 'possession',
  sms: 'possession',
  tel: 'possession',
  fpt: 'inherence',
  face: 'inherence',
  iris: 'inherence',
  retina: 'inherence',
  vbm: 'inherence',
};

/** The RFC 8176 registry: the only provider-asserted values that reach our tokens. */
const RFC8176_METHODS: ReadonlySet<string> = new Set([
  ...Object.keys(FACTOR_KINDS),
  'geo',
  'mca',
  'mfa',
  'pop',
  'rba',
  'user',
  'wia',
]);

/** The amr of a provider sign-in that asserted no registered method: "federated", Tessera's own value. */
const FEDERATED_AMR = 'fed';

/**
 * The level a set of methods reaches: aal2 needs factors of two different
 * kinds (a password and an authenticator code, never two passwords), or the
 * "mfa" a provider asserts for its own sign-in; Tessera puts "mfa" in an amr
 * only next to the two factors it checked. Email links and codes have no
 * method value at all: they are never a factor.
 */
export function assuranceLevel(amr: readonly string[]): AssuranceLevel {
  if (amr.includes('mfa')) return 'aal2';
  const kinds = new Set(amr.map((method) => FACTOR_KINDS[method]).filter(Boolean));
  return kinds.size >= 2 ? 'aal2' : 'aal1';
}

/** The assurance of a sign-in at `now` with `amr`, duplicates dropped; whole seconds, as auth_time carries it. */
export function assuranceOf(amr: readonly string[], now: Date): Assurance {
  const methods = [...new Set(amr)];
  const authenticatedAt = new Date(Math.floor(now.getTime() / 1000) * 1000);
  return { authenticatedAt, amr: methods, acr: assuranceLevel(methods) };
}

/**
 * The amr of a provider sign-in: the values of the ID token's amr claim that
 * RFC 8176 registers (anything else is the provider's private vocabulary and
 * could mean anything), or ["fed"] when none is left.
 */
export function providerAmr(asserted: readonly string[]): string[] {
  const registered = [...new Set(asserted.filter((method) => RFC8176_METHODS.has(method)))];
  return registered.length > 0 ? registered : [FEDERATED_AMR];
}
