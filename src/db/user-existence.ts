import type { EntityManager } from '@mikro-orm/postgresql';
import { preparedQuery } from './prepared-query.js';

/** Which of these user ids have an account row (the rest were erased, or never committed). */
export async function findExistingUserIds(em: EntityManager, userIds: readonly string[]): Promise<string[]> {
  if (userIds.length === 0) return [];
  const rows = await preparedQuery<{ id: string }>(
    em,
    'tessera_existing_user_ids',
    'select id from users where id = any($1::uuid[])',
    [userIds],
  );
  return rows.map((r) => r.id);
}
