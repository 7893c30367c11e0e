import { defineEntity, type InferEntity } from '@mikro-orm/core';

/**
 * A sign-in that passed its first factor and waits for the second. The
 * client holds an opaque secret; only its SHA-256 is stored. Single use,
 * short-lived.
 */
export const MfaChallenge = defineEntity({
  name: 'MfaChallenge',
  tableName: 'mfa_challenges',
  properties: (p) => ({
    id: p.uuid().primary(),
    /** SHA-256 (hex) of the challenge secret given to the client. */
    challengeHash: p.text().unique('mfa_challenges_challenge_hash_unique'),
    userId: p.uuid().index('mfa_challenges_user_id_index'),
    /** The first factor's sign-in method ("password", "oidc:<provider>"). */
    method: p.text(),
    /** The first factor's RFC 8176 authentication methods. */
    firstFactorAmr: p.json<string[]>(),
    /** The account must enroll a factor (MFA_REQUIRED_ROLES): the challenge is answered by enrolling one. */
    enrollment: p.boolean().default(false),
    createdAt: p.datetime(),
    expiresAt: p.datetime(),
    usedAt: p.datetime().nullable(),
  }),
});

export type MfaChallenge = InferEntity<typeof MfaChallenge>;
