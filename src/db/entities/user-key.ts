import { defineEntity, type InferEntity } from '@mikro-orm/core';

/**
 * Where earlier versions kept the users' data keys, in the main database (so
 * every dump held them). Emptied at start-up into the key store
 * (db/legacy-user-keys.ts) and read by nothing else; kept so that the move
 * can run, since migrations run before it: a later release drops it.
 */
export const UserKey = defineEntity({
  name: 'UserKey',
  tableName: 'user_keys',
  properties: (p) => ({
    /** No foreign key: the row must be deleted on purpose, and is the last thing an erasure removes. */
    userId: p.uuid().primary(),
    /** Public id of the data key, stored in every ciphertext it made. */
    keyId: p.text(),
    /** SecretBox ciphertext of the 32-byte key, bound to the user id. */
    wrappedKey: p.text(),
    /** Which master key wrapped it: rotation picks the rows not under the current one. */
    masterKeyId: p.text(),
    createdAt: p.datetime(),
  }),
  indexes: [{ name: 'user_keys_master_key_id_index', properties: ['masterKeyId'] }],
});

export type UserKey = InferEntity<typeof UserKey>;
