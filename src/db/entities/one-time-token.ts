import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { User } from './user.js';

const ONE_TIME_TOKEN_PURPOSES = ['email_verification', 'email_change', 'password_reset'] as const;
export type OneTimeTokenPurpose = (typeof ONE_TIME_TOKEN_PURPOSES)[number];

/**
 * A single-use secret sent by mail (email verification, email change, password
 * reset). Only its SHA-256 is stored; it works once and until it expires.
 */
export const OneTimeToken = defineEntity({
  name: 'OneTimeToken',
  tableName: 'one_time_tokens',
  properties: (p) => ({
    id: p.uuid().primary(),
    user: () => p.manyToOne(User).deleteRule('cascade').index('one_time_tokens_user_id_index'),
    purpose: p.enum([...ONE_TIME_TOKEN_PURPOSES]),
    /** SHA-256 (hex) of the token. */
    tokenHash: p.text().unique('one_time_tokens_token_hash_unique'),
    /** The address the token proves (the one it was mailed to), sealed under the user's data key. */
    email: p.text(),
    createdAt: p.datetime(),
    expiresAt: p.datetime(),
    consumedAt: p.datetime().nullable(),
  }),
});

export type OneTimeToken = InferEntity<typeof OneTimeToken>;
