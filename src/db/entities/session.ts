import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { User } from './user.js';

/** One sign-in: holds the hash of the current refresh token, rotated on every refresh. */
export const Session = defineEntity({
  name: 'Session',
  tableName: 'sessions',
  properties: (p) => ({
    id: p.uuid().primary(),
    user: () => p.manyToOne(User).deleteRule('cascade').index('sessions_user_id_index'),
    /** SHA-256 (hex) of the current refresh token. */
    refreshTokenHash: p.text().unique('sessions_refresh_token_hash_unique'),
    createdAt: p.datetime(),
    expiresAt: p.datetime(),
    lastUsedAt: p.datetime(),
    revokedAt: p.datetime().nullable(),
    revokeReason: p.text().nullable(),
    ip: p.text().nullable(),
    userAgent: p.text().nullable(),
  }),
});

export type Session = InferEntity<typeof Session>;
