import { defineEntity, type InferEntity } from '@mikro-orm/core';

export const USER_ROLES = ['user', 'admin', 'auditor', 'service'] as const;
export type UserRole = (typeof USER_ROLES)[number];
export const USER_STATUSES = ['active', 'suspended', 'deleted'] as const;
export type UserStatus = (typeof USER_STATUSES)[number];

/** An account: credentials and lifecycle. Profile data lives in UserProfile. */
export const User = defineEntity({
  name: 'User',
  tableName: 'users',
  properties: (p) => ({
    id: p.uuid().primary(),
    /**
     * Keyed blind index of the normalized address (HMAC-SHA-256, see
     * crypto/email-index.ts): the unique index makes one account per address,
     * and sign-in and exact filters look it up. The clear `email` column of
     * older versions is emptied at start-up (domain/compliance/email-sealing.ts)
     * and dropped by a post-deploy migration (20261202150000).
     */
    emailIndex: p.text().unique('users_email_index_unique'),
    /** The normalized address, sealed under the user's data key (binding `users.email:<id>`). */
    emailCiphertext: p.text(),
    emailVerifiedAt: p.datetime().nullable(),
    /**
     * PHC-style hash: argon2id for Tessera's own; bcrypt, PBKDF2 or foreign
     * argon2 for imported users until their next sign-in. Null for accounts
     * that only sign in through a provider.
     */
    passwordHash: p.text().nullable().lazy(true, false),
    /**
     * Which pepper (argon2's secret) the hash was made with: a pepper id, 'none'
     * for imported hashes made without one, null when unknown (hashes older than
     * pepper ids: the current and previous peppers are tried).
     */
    passwordPepperId: p.text().nullable(),
    role: p.enum([...USER_ROLES]).default('user'),
    status: p.enum([...USER_STATUSES]).default('active'),
    lastLoginAt: p.datetime().nullable(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
    /** Set by a suspension and kept through a soft delete, so an undelete restores the suspension. */
    suspendedAt: p.datetime().nullable(),
    deletedAt: p.datetime().nullable(),
    /** Written by administrators and services only (plan, tenant, flags); users read it. */
    appMetadata: p.json<Record<string, unknown>>().default('{}'),
    version: p.integer().version(),
  }),
  indexes: [
    // ListUsers pages by (created_at, id).
    { name: 'users_created_at_id_index', properties: ['createdAt', 'id'] },
    // ListUsers filters on app_metadata with jsonb containment (@>).
    {
      name: 'users_app_metadata_index',
      expression: 'create index "users_app_metadata_index" on "users" using gin ("app_metadata" jsonb_path_ops)',
    },
  ],
});

export type User = InferEntity<typeof User>;
