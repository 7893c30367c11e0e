import { openField } from '../../src/domain/kernel/user-data-keys.js';
import { sqlOn } from './fixtures.js';
import { harness } from './harness.js';
import type { TestServer } from './server.js';

/** A sealed profile column as stored, and what it opens to with `server`'s keys ('' when empty). */
export async function sealedProfileColumn(
  userId: string,
  column: 'avatar_url' | 'preferences',
  server: TestServer = harness().server,
): Promise<{ stored: string; opened: string }> {
  const [row] = await sqlOn<{ value: string }>(server, `select ${column} as value from user_profiles where user_id = $1`, [
    userId,
  ]);
  const cipher = await server.tessera.deps.userKeys.cipherOf(server.tessera.orm.em.fork(), userId);
  return { stored: row!.value, opened: openField(cipher, row!.value, `user_profiles.${column}:${userId}`) };
}
