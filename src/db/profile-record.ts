import type { EntityManager } from '@mikro-orm/postgresql';
import { preparedQuery } from './prepared-query.js';

/** A profile row as stored (the phone number still sealed). */
export interface ProfileRecord {
  userId: string;
  fullName: string;
  avatarUrl: string;
  bio: string;
  location: string;
  phoneNumberCiphertext: string | null;
  preferences: Record<string, unknown> | null;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * Reads one profile with a prepared primary-key query, off the ORM's path:
 * GetProfile is the service's most frequent read and needs no identity map.
 */
export async function findProfileRecord(em: EntityManager, userId: string): Promise<ProfileRecord | null> {
  const rows = await preparedQuery<{
    user_id: string;
    full_name: string;
    avatar_url: string;
    bio: string;
    location: string;
    phone_number_ciphertext: string | null;
    preferences: Record<string, unknown> | null;
    created_at: Date;
    updated_at: Date;
  }>(
    em,
    'tessera_profile_record',
    `select user_id, full_name, avatar_url, bio, location, phone_number_ciphertext, preferences, created_at, updated_at
       from user_profiles where user_id = $1`,
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
  };
}
