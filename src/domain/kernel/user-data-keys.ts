import { FieldCipher, newDataKey } from '../../crypto/field-cipher.js';
import type { SecretBox } from '../../crypto/secret-box.js';
import type { Clock } from '../../clock.js';
import { findUserKeys, insertUserKeyIfAbsent, type EntityManager, type UserKeyRow } from '../../db/index.js';

/**
 * Every user's personal fields are sealed under a data key of their own,
 * stored wrapped by the master key (crypto-shredding: erasure deletes the
 * key, and every copy of the ciphertext, backups included, becomes noise).
 */
export class UserDataKeys {
  /**
   * The ciphers a transaction already opened, by its EntityManager: a sign-in
   * seals the session's and the audit event's ip and user agent under one key,
   * read and unwrapped once. Kept per transaction only: a rollback (or an erasure
   * in another) must not leave a key behind that the database no longer holds.
   */
  private readonly opened = new WeakMap<EntityManager, Map<string, FieldCipher>>();

  constructor(
    /** Wraps the data keys; the rotation re-wraps with it. */
    readonly wrapper: SecretBox,
    private readonly clock: Clock,
  ) {}

  /** The user's cipher, creating their data key on first use. */
  async forWriting(em: EntityManager, userId: string): Promise<FieldCipher> {
    const cache = em.isInTransaction() ? this.cacheOf(em) : undefined;
    const cached = cache?.get(userId);
    if (cached) return cached;
    const cipher = await this.readOrCreate(em, userId);
    cache?.set(userId, cipher);
    return cipher;
  }

  /** Keeps a key row the transaction read along with other data (a sign-in's stamp), so forWriting needs no query. */
  remember(em: EntityManager, row: UserKeyRow): void {
    if (em.isInTransaction()) this.cacheOf(em).set(row.userId, this.unwrap(row));
  }

  /** Forgets what a transaction opened for `userId` (its key is being deleted: an erasure). */
  forget(em: EntityManager, userId: string): void {
    this.opened.get(em)?.delete(userId);
  }

  private cacheOf(em: EntityManager): Map<string, FieldCipher> {
    let cache = this.opened.get(em);
    if (!cache) this.opened.set(em, (cache = new Map()));
    return cache;
  }

  /** forWriting for a user this transaction is creating: no key to look for first. */
  async forNewUser(em: EntityManager, userId: string): Promise<FieldCipher> {
    const cipher = await this.create(em, userId);
    if (em.isInTransaction()) this.cacheOf(em).set(userId, cipher);
    return cipher;
  }

  private async readOrCreate(em: EntityManager, userId: string): Promise<FieldCipher> {
    const [existing] = await findUserKeys(em, [userId]);
    return existing ? this.unwrap(existing) : this.create(em, userId);
  }

  private async create(em: EntityManager, userId: string): Promise<FieldCipher> {
    const { key, keyId } = newDataKey();
    const stored = await insertUserKeyIfAbsent(
      em,
      { userId, keyId, wrappedKey: this.wrapper.sealBytes(key, userId), masterKeyId: this.wrapper.keyId },
      this.clock.now(),
    );
    // Ours unless a concurrent transaction stored one first.
    return stored.keyId === keyId ? new FieldCipher(key, keyId) : this.unwrap(stored);
  }

  /** The ciphers of those of `userIds` that still have a key (an erased user has none). */
  async forReading(em: EntityManager, userIds: Iterable<string>): Promise<Map<string, FieldCipher>> {
    const rows = await findUserKeys(em, [...new Set(userIds)]);
    return new Map(rows.map((row) => [row.userId, this.unwrap(row)]));
  }

  /** The cipher of a key row read along with other data; undefined for an erased user (no key). */
  cipherOf(row: UserKeyRow | null): FieldCipher | undefined {
    return row ? this.unwrap(row) : undefined;
  }

  private unwrap(row: UserKeyRow): FieldCipher {
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
