import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { User } from './user.js';

/** Non-credential user data, one row per user, removed with the user. */
export const UserProfile = defineEntity({
  name: 'UserProfile',
  tableName: 'user_profiles',
  properties: (p) => ({
    user: () => p.oneToOne(User).primary().owner().deleteRule('cascade').fieldName('user_id'),
    /** The sealed columns (full name, avatar URL, bio, location, preferences) hold ciphertext under the user's data key; '' when empty. */
    fullName: p.text().default(''),
    avatarUrl: p.text().default(''),
    bio: p.text().default(''),
    location: p.text().default(''),
    /** AES-256-GCM ciphertext (SecretBox); never the plain number. */
    phoneNumberCiphertext: p.text().nullable(),
    /** The preferences' JSON, sealed as one ciphertext; '' for none. */
    preferences: p.text().default(''),
    /** Raised by every change; the profile's etag (optimistic concurrency). */
    version: p.integer().default(1),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  }),
});

export type UserProfile = InferEntity<typeof UserProfile>;
