import type { EntityManager } from '@mikro-orm/postgresql';
import { preparedQuery } from './prepared-query.js';
import type { UserKeyRow } from './user-keys.js';

/** A stored profile as GetProfile reads it (sealed columns still sealed), with its owner's wrapped data key. */
export interface ProfileRow {
  userId: string;
  fullName: string;
  avatarUrl: string;
  bio: string;
  location: string;
  phoneNumberCiphertext: string | null;
  preferences: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
  /** The optimistic-concurrency version (the etag). */
  version: number;
  /** Null once the user was erased (crypto-shredded). */
  key: UserKeyRow | null;
}

/**
 * Reads a profile and its owner's data key in one prepared primary-key query,
 * off the ORM's query and hydration path: GetProfile is the hottest read, and
 * through the ORM its two queries cost several times the rest of the call.
 */
export async function findProfileWithKey(em: EntityManager, userId: string): Promise<ProfileRow | null> {
  const rows = await preparedQuery<{
    user_id: string;
    full_name: string;
    avatar_url: string;
    bio: string;
    location: string;
    phone_number_ciphertext: string | null;
    preferences: Record<string, unknown>;
    created_at: Date;
    updated_at: Date;
    version: number;
    key_id: string | null;
    wrapped_key: string | null;
    master_key_id: string | null;
  }>(
    em,
    'tessera_profile_with_key',
    `select p.user_id, p.full_name, p.avatar_url, p.bio, p.location, p.phone_number_ciphertext, p.preferences,
            p.created_at, p.updated_at, p.version, k.key_id, k.wrapped_key, k.master_key_id
       from user_profiles p left join user_keys k on k.user_id = p.user_id
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
    key:
      row.key_id && row.wrapped_key && row.master_key_id
        ? { userId: row.user_id, keyId: row.key_id, wrappedKey: row.wrapped_key, masterKeyId: row.master_key_id }
        : null,
  };
}
