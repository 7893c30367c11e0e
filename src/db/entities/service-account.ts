import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { USER_ROLES } from './user.js';

/**
 * A backend's identity. Its API key is stored only as a SHA-256 hash, with a
 * short prefix for display. Deleting revokes (revoked_at) rather than removing
 * the row, so audit events keep naming a known account.
 */
export const ServiceAccount = defineEntity({
  name: 'ServiceAccount',
  tableName: 'service_accounts',
  properties: (p) => ({
    id: p.uuid().primary(),
    name: p.text(),
    role: p.enum([...USER_ROLES]),
    /** SHA-256 (hex) of the API key. */
    apiKeyHash: p.text().unique('service_accounts_api_key_hash_unique'),
    /** "tsk_" and the next 8 characters of the key: enough to recognise it, far too little to use it. */
    apiKeyPrefix: p.text(),
    createdAt: p.datetime(),
    lastUsedAt: p.datetime().nullable(),
    revokedAt: p.datetime().nullable(),
    /** The URI SAN of a client certificate that authenticates as this account (mTLS), if bound. */
    certificateIdentity: p.text().nullable(),
  }),
  uniques: [
    // One live account per certificate identity: a certificate must name exactly one account.
    {
      name: 'service_accounts_live_certificate_identity_unique',
      expression:
        'create unique index "service_accounts_live_certificate_identity_unique" on "service_accounts" ("certificate_identity") where "revoked_at" is null',
    },
    // A name is unique among live accounts; a revoked account's name may be reused.
    {
      name: 'service_accounts_live_name_unique',
      expression:
        'create unique index "service_accounts_live_name_unique" on "service_accounts" ("name") where "revoked_at" is null',
    },
  ],
});

export type ServiceAccount = InferEntity<typeof ServiceAccount>;
