import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { User } from './user.js';

/**
 * One sign-in: holds the hash of the current refresh token, rotated on every
 * refresh, and of the one before it, so a replay of the rotated token within a
 * short grace is answered with the same successor. Every older one is in
 * refresh_token_history (reuse detection).
 */
export const Session = defineEntity({
  name: 'Session',
  tableName: 'sessions',
  properties: (p) => ({
    id: p.uuid().primary(),
    user: () => p.manyToOne(User).deleteRule('cascade').index('sessions_user_id_index'),
    /** SHA-256 (hex) of the current refresh token. */
    refreshTokenHash: p.text().unique('sessions_refresh_token_hash_unique'),
    /** SHA-256 (hex) of the refresh token the last rotation replaced. */
    previousRefreshTokenHash: p.text().nullable().index('sessions_previous_refresh_token_hash_index'),
    /** When the refresh token was last rotated. */
    rotatedAt: p.datetime().nullable(),
    /** The current refresh token, encrypted (SecretBox), kept only to answer a replay within the grace window. */
    successorCiphertext: p.text().nullable(),
    createdAt: p.datetime(),
    expiresAt: p.datetime(),
    lastUsedAt: p.datetime(),
    revokedAt: p.datetime().nullable(),
    revokeReason: p.text().nullable(),
    ip: p.text().nullable(),
    userAgent: p.text().nullable(),
    /** When the user last proved who they are in this session: the sign-in, or the last Reauthenticate. */
    authenticatedAt: p.datetime(),
    /** How they did (RFC 8176 values, the "amr" claim). */
    amr: p.array(),
    /** The assurance level that proof reached ("aal1" or "aal2", the "acr" claim). */
    acr: p.text(),
  }),
  indexes: [
    // Few rows: the successors still kept for the grace window, found by the cleanup job.
    {
      name: 'sessions_successor_kept_index',
      expression:
        'create index "sessions_successor_kept_index" on "sessions" ("rotated_at") where "successor_ciphertext" is not null',
    },
  ],
});

export type Session = InferEntity<typeof Session>;
