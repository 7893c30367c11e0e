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
  constructor(
    /** Wraps the data keys; the rotation re-wraps with it. */
    readonly wrapper: SecretBox,
    private readonly clock: Clock,
  ) {}

  /** The user's cipher, creating their data key on first use. */
  async forWriting(em: EntityManager, userId: string): Promise<FieldCipher> {
    const [existing] = await findUserKeys(em, [userId]);
    if (existing) return this.unwrap(existing);
    const { key, keyId } = newDataKey();
    const stored = await insertUserKeyIfAbsent(
      em,
      { userId, keyId, wrappedKey: this.wrapper.sealBytes(key, userId), masterKeyId: this.wrapper.keyId },
      this.clock.now(),
    );
    return this.unwrap(stored);
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
