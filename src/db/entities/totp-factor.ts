import { defineEntity, type InferEntity } from '@mikro-orm/core';

/**
 * A user's TOTP authenticator (RFC 6238), at most one per user. The secret is
 * sealed under the user's data key, bound to this row; an unconfirmed row is
 * an enrolment in progress and signs nobody in.
 */
export const TotpFactor = defineEntity({
  name: 'TotpFactor',
  tableName: 'totp_factors',
  properties: (p) => ({
    userId: p.uuid().primary(),
    /** The base32 secret, sealed under the user's data key (binding `totp_factors.secret:<user_id>`). */
    secretCiphertext: p.text(),
    createdAt: p.datetime(),
    /** When a first code proved the authenticator holds the secret; null while enrolling. */
    confirmedAt: p.datetime().nullable(),
    /** The time step of the last accepted code: that code, and any older one, is refused from then on. */
    lastTimeStep: p.bigint('number').nullable(),
  }),
});

export type TotpFactor = InferEntity<typeof TotpFactor>;
