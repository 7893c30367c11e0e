import { defineEntity, type InferEntity } from '@mikro-orm/core';

/** The signed receipt of an erased account, kept for the data-protection officer. Holds no personal data. */
export const ErasureReceipt = defineEntity({
  name: 'ErasureReceipt',
  tableName: 'erasure_receipts',
  properties: (p) => ({
    /** The erased account's id (the account itself is gone). */
    userId: p.uuid().primary(),
    erasedAt: p.datetime(),
    /** The compact JWS returned by EraseUser. */
    jws: p.text(),
  }),
});

export type ErasureReceipt = InferEntity<typeof ErasureReceipt>;
