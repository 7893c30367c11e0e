import type { KeyPosition, StoredDataKey } from '../../db/index.js';

/**
 * Where the users' wrapped data keys live: a store apart from the main
 * database (its dumps then hold no key), reached only through this port.
 * No transaction spans it and the main database: each call commits on its own.
 */
export interface DataKeyStore {
  /** The stored keys of these users (erased users have none). */
  find(userIds: readonly string[]): Promise<StoredDataKey[]>;
  /** Stores a key unless the user has one; returns the one stored. */
  insertIfAbsent(key: StoredDataKey, createdAt: Date): Promise<StoredDataKey>;
  /** Destroys a user's key; how many went (0: already destroyed). */
  destroy(userId: string): Promise<number>;
  /** How many keys another master key than `masterKeyId` wraps. */
  countWrappedByOthers(masterKeyId: string): Promise<number>;
  /** Re-wraps one batch of such keys, locked (`rewrap` null: already under it); how many (0: none left). */
  rewrapBatch(masterKeyId: string, limit: number, rewrap: (key: StoredDataKey) => string | null): Promise<number>;
  /** The next keys created before `createdBefore` the orphan scan has not looked at, oldest first. */
  orphanCandidates(createdBefore: Date, limit: number): Promise<KeyPosition[]>;
  /** Deletes these users' keys (created before `createdBefore`) and records the scan reached `scannedTo`. */
  deleteOrphans(userIds: readonly string[], createdBefore: Date, scannedTo: KeyPosition): Promise<number>;
}
