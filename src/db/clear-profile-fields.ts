import type { EntityManager } from '@mikro-orm/postgresql';

/** A profile whose avatar URL or preferences are still in clear (null: that one is already sealed or empty). */
export interface ClearProfileRow {
  userId: string;
  avatarUrl: string | null;
  preferences: string | null;
}

/**
 * A sealed value is `v1.<keyId>.…` (FieldCipher); a clear avatar URL starts
 * with its https scheme and clear preferences are a JSON object, so neither
 * is ever taken for the other.
 */
const CLEAR = (column: string) => `(${column} <> '' and ${column} not like 'v1.%')`;

/**
 * Up to `limit` profiles with an avatar URL or preferences in clear, locked
 * until the transaction ends; rows another converter holds are skipped, so
 * two instances starting together share the work.
 */
export function lockClearProfileFields(em: EntityManager, limit: number): Promise<ClearProfileRow[]> {
  return em.execute<ClearProfileRow[]>(
    `select user_id as "userId",
            case when ${CLEAR('avatar_url')} then avatar_url end as "avatarUrl",
            case when ${CLEAR('preferences')} then preferences end as "preferences"
       from user_profiles
      where ${CLEAR('avatar_url')} or ${CLEAR('preferences')}
      order by user_id limit ? for update skip locked`,
    [limit],
  );
}

/** Replaces a profile's clear values by their sealed forms (those given; the version stays: the values did not change). */
export async function storeSealedProfileFields(
  em: EntityManager,
  userId: string,
  sealed: { avatarUrl?: string; preferences?: string },
): Promise<void> {
  await em.execute(
    `update user_profiles set avatar_url = coalesce(?, avatar_url), preferences = coalesce(?, preferences) where user_id = ?`,
    [sealed.avatarUrl ?? null, sealed.preferences ?? null, userId],
  );
}
