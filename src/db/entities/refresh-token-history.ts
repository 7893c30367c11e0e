import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { Session } from './session.js';

/**
 * A refresh token a session rotated out (its SHA-256), kept while the session
 * lives: any of them presented again after the grace window means two parties
 * hold the session's tokens (RFC 9700), however many rotations ago it was.
 */
export const RefreshTokenHistory = defineEntity({
  name: 'RefreshTokenHistory',
  tableName: 'refresh_token_history',
  properties: (p) => ({
    /** SHA-256 (hex) of the rotated-out refresh token. */
    tokenHash: p.text().primary(),
    session: () => p.manyToOne(Session).deleteRule('cascade').index('refresh_token_history_session_id_index'),
    rotatedAt: p.datetime(),
  }),
});

export type RefreshTokenHistory = InferEntity<typeof RefreshTokenHistory>;
