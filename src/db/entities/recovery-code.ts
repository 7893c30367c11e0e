import { defineEntity, type InferEntity } from '@mikro-orm/core';

/**
 * One of a user's recovery codes (a NIST SP 800-63B look-up secret): only
 * its SHA-256 is stored, and it works once.
 */
export const RecoveryCode = defineEntity({
  name: 'RecoveryCode',
  tableName: 'recovery_codes',
  properties: (p) => ({
    id: p.uuid().primary(),
    userId: p.uuid().index('recovery_codes_user_id_index'),
    /** SHA-256 (hex) of `<user_id>:<normalized code>`. */
    codeHash: p.text().unique('recovery_codes_code_hash_unique'),
    createdAt: p.datetime(),
    usedAt: p.datetime().nullable(),
  }),
});

export type RecoveryCode = InferEntity<typeof RecoveryCode>;
