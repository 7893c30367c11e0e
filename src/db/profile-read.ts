import type { EntityManager } from '@mikro-orm/postgresql';
import { preparedQuery } from './prepared-query.js';

/** A stored profile as GetProfile reads it (sealed columns still sealed). */
export interface ProfileRow {
  userId: string;
  fullName: string;
  avatarUrl: string;
  bio: string;
  location: string;
  phoneNumberCiphertext: string | null;
  preferences: string;
  createdAt: Date;
  updatedAt: Date;
  /** The optimistic-concurrency version (the etag). */
  version: number;
}

/**
 * Reads a profile in one prepared primary-key query, off the ORM's query and
 * hydration path: GetProfile is the hottest read, and through the ORM it cost
 * several times the rest of the call. Its owner's data key is in the key store.
 */
export async function findProfileRow(em: EntityManager, userId: string): Promise<ProfileRow | null> {
  const rows = await preparedQuery<{
    user_id: string;
    full_name: string;
    avatar_url: string;
    bio: string;
    location: string;
    phone_number_ciphertext: string | null;
    preferences: string;
    created_at: Date;
    updated_at: Date;
    version: number;
  }>(
    em,
    'tessera_profile',
    `select p.user_id, p.full_name, p.avatar_url, p.bio, p.location, p.phone_number_ciphertext, p.preferences,
            p.created_at, p.updated_at, p.version
       from user_profiles p
      where p.user_id = $1`,
    [userId],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    userId: row.user_id,
    fullName: row.full_name,
    avatarUrl: row.avatar_url,
    bio: row.bio,
    location: row.location,
    phoneNumberCiphertext: row.phone_number_ciphertext,
    preferences: row.preferences,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    version: Number(row.version),
  };
}
