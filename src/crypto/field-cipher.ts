import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM under one user's data key. Output: `v1.<keyId>.<iv>.<tag>.<ciphertext>`
 * (base64url parts), the key id and the row binding (`table.column:rowId`)
 * authenticated as associated data, so a ciphertext cannot be moved to
 * another column, row or user. Destroying the data key shreds every copy.
 */
export class FieldCipher {
  constructor(
    private readonly key: Buffer,
    /** The data key's id, stored in every ciphertext it made. */
    readonly keyId: string,
  ) {}

  /** Encrypts `plaintext` for the row and column named by `binding`. */
  seal(plaintext: string, binding: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: 16 });
    cipher.setAAD(this.aad(binding));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return ['v1', this.keyId, iv.toString('base64url'), tag.toString('base64url'), ciphertext.toString('base64url')].join('.');
  }

  /** Decrypts what `seal` produced for the same binding; throws if anything was altered. */
  open(sealed: string, binding: string): string {
    const [version, keyId, iv, tag, ciphertext] = sealed.split('.');
    if (version !== 'v1' || keyId !== this.keyId || iv === undefined || tag === undefined || ciphertext === undefined) {
      throw new Error('unsupported ciphertext');
    }
    // authTagLength pins the tag size: Node otherwise accepts truncated tags.
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'), { authTagLength: 16 });
    decipher.setAAD(this.aad(binding));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  }

  private aad(binding: string): Buffer {
    return Buffer.from(`${this.keyId}|${binding}`, 'utf8');
  }
}

/** A fresh random data key and its public id. */
export function newDataKey(): { key: Buffer; keyId: string } {
  return { key: randomBytes(32), keyId: randomBytes(6).toString('base64url') };
}
