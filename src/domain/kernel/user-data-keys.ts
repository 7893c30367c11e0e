import { FieldCipher, newDataKey } from '../../crypto/field-cipher.js';
import type { SecretBox } from '../../crypto/secret-box.js';
import type { Clock } from '../../clock.js';
import type { EntityManager, StoredDataKey } from '../../db/index.js';
import type { DataKeyStore } from './data-key-store.js';

/**
 * Every user's personal fields are sealed under a data key of their own,
 * wrapped by the master key and kept in the key store, apart from the main
 * database (crypto-shredding: erasure destroys the key, and every copy of the
 * ciphertext, dumps of the main database included, becomes noise).
 */
export class UserDataKeys {
  /**
   * The ciphers a transaction already opened, by its EntityManager: a sign-in
   * seals the session's and the audit event's ip and user agent under one key,
   * read and unwrapped once. Kept per transaction only: nothing outlives it, so
   * no instance holds a key past an erasure.
   */
  private readonly opened = new WeakMap<EntityManager, Map<string, FieldCipher>>();

  constructor(
    /** Wraps the data keys; the rotation re-wraps with it. */
    readonly wrapper: SecretBox,
    private readonly clock: Clock,
    /** Where the wrapped keys live. */
    readonly store: DataKeyStore,
  ) {}

  /** The user's cipher, creating their data key on first use. */
  async forWriting(em: EntityManager, userId: string): Promise<FieldCipher> {
    const cache = em.isInTransaction() ? this.cacheOf(em) : undefined;
    const cached = cache?.get(userId);
    if (cached) return cached;
    const cipher = await this.readOrCreate(userId);
    cache?.set(userId, cipher);
    return cipher;
  }

  /** Forgets what a transaction opened for `userId` (its key is being destroyed: an erasure). */
  forget(em: EntityManager, userId: string): void {
    this.opened.get(em)?.delete(userId);
  }

  /** Whether the store holds a key of `userId` now. */
  async isHeld(userId: string): Promise<boolean> {
    return (await this.store.find([userId])).length > 0;
  }

  /**
   * Destroys the user's key in the store (erasure): from then on nothing sealed
   * under it opens, in the main database or any dump of it.
   */
  destroy(userId: string): Promise<number> {
    return this.store.destroy(userId);
  }

  private cacheOf(em: EntityManager): Map<string, FieldCipher> {
    let cache = this.opened.get(em);
    if (!cache) this.opened.set(em, (cache = new Map()));
    return cache;
  }

  /**
   * forWriting for a user this transaction is creating: no key to look for
   * first. The key commits in the store at once, before the user's row: a
   * registration that then rolls back leaves an orphan key, which opens
   * nothing and which the retention job prunes after a day.
   */
  async forNewUser(em: EntityManager, userId: string): Promise<FieldCipher> {
    const cipher = await this.create(userId);
    if (em.isInTransaction()) this.cacheOf(em).set(userId, cipher);
    return cipher;
  }

  private async readOrCreate(userId: string): Promise<FieldCipher> {
    const [existing] = await this.store.find([userId]);
    return existing ? this.unwrap(existing) : this.create(userId);
  }

  private async create(userId: string): Promise<FieldCipher> {
    const { key, keyId } = newDataKey();
    const stored = await this.store.insertIfAbsent(
      { userId, keyId, wrappedKey: this.wrapper.sealBytes(key, userId), masterKeyId: this.wrapper.keyId },
      this.clock.now(),
    );
    // Ours unless a concurrent first write stored one first.
    return stored.keyId === keyId ? new FieldCipher(key, keyId) : this.unwrap(stored);
  }

  /** The ciphers of those of `userIds` that still have a key (an erased user has none). */
  async forReading(em: EntityManager, userIds: Iterable<string>): Promise<Map<string, FieldCipher>> {
    const ids = [...new Set(userIds)];
    const cache = em.isInTransaction() ? this.opened.get(em) : undefined;
    const missing = cache ? ids.filter((id) => !cache.has(id)) : ids;
    const rows = await this.store.find(missing);
    const ciphers = new Map(rows.map((row) => [row.userId, this.unwrap(row)]));
    for (const id of ids) {
      const cached = cache?.get(id);
      if (cached) ciphers.set(id, cached);
    }
    return ciphers;
  }

  /** The cipher of one user, or undefined for an erased user (no key). */
  async cipherOf(em: EntityManager, userId: string): Promise<FieldCipher | undefined> {
    return (await this.forReading(em, [userId])).get(userId);
  }

  private unwrap(row: StoredDataKey): FieldCipher {
    return new FieldCipher(this.wrapper.openBytes(row.wrappedKey, row.userId), row.keyId);
  }
}

/** Seals a personal value ('' stays '': nothing to hide, and empty fields stay recognisable). */
export function sealField(cipher: FieldCipher, value: string, binding: string): string {
  return value === '' ? '' : cipher.seal(value, binding);
}

/** Opens a sealed value; '' when it is empty or its key was destroyed. */
export function openField(cipher: FieldCipher | undefined, sealed: string | null | undefined, binding: string): string {
  if (!sealed || !cipher) return '';
  return cipher.open(sealed, binding);
}

/** The associated data of a session's sealed column (ip, user_agent). */
export function sessionBinding(column: 'ip' | 'user_agent', sessionId: string): string {
  return `sessions.${column}:${sessionId}`;
}
