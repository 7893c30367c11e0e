import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM encryption under a key derived from the master key for one
 * purpose, so a signing key and a data key never share an encryption key.
 *
 * Output: `v1.<keyId>.<iv>.<tag>.<ciphertext>` (base64url parts). The key id
 * names the master key it was made with. The box holds a ring: the first
 * (newest) master key seals, every key of the ring opens, so the previous keys
 * keep working until `tessera rotate-master-key` has re-sealed their output.
 */
export class SecretBox {
  private readonly keys: Map<string, Buffer>;
  /** The id of the master key that seals. */
  readonly keyId: string;

  /** `masterKeys`: the current key first, then the previous ones. */
  constructor(masterKeys: Buffer | readonly Buffer[], purpose: string) {
    const ring = Buffer.isBuffer(masterKeys) ? [masterKeys] : masterKeys;
    if (ring.length === 0) throw new Error('a secret box needs at least one master key');
    this.keys = new Map(ring.map((k) => [masterKeyId(k), createHmac('sha256', k).update(`tessera:${purpose}`).digest()]));
    this.keyId = masterKeyId(ring[0]!);
  }

  /** Encrypts `plaintext`; `context` is authenticated too (e.g. the owning row's id). */
  seal(plaintext: string, context = ''): string {
    return this.sealBytes(Buffer.from(plaintext, 'utf8'), context);
  }

  /** Encrypts raw bytes (a data key); `context` is authenticated too. */
  sealBytes(plaintext: Buffer, context = ''): string {
    const key = this.keys.get(this.keyId)!;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const tag = cipher.getAuthTag();
    return ['v1', this.keyId, iv.toString('base64url'), tag.toString('base64url'), ciphertext.toString('base64url')].join('.');
  }

  /** Decrypts what `seal` produced with the same context; throws if anything was altered. */
  open(sealed: string, context = ''): string {
    return this.openBytes(sealed, context).toString('utf8');
  }

  /** Decrypts what `sealBytes` produced with the same context. */
  openBytes(sealed: string, context = ''): Buffer {
    const [version, keyId, iv, tag, ciphertext] = sealed.split('.');
    const key = keyId === undefined ? undefined : this.keys.get(keyId);
    if (version !== 'v1' || key === undefined || iv === undefined || tag === undefined || ciphertext === undefined) {
      throw new Error('unsupported ciphertext');
    }
    // authTagLength pins the tag size: Node otherwise accepts truncated tags.
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), { authTagLength: 16 });
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]);
  }

  /** Whether `sealed` was made with the current master key (rotation skips those). */
  isCurrent(sealed: string): boolean {
    return sealed.split('.')[1] === this.keyId;
  }

  /** Re-seals under the current master key, or returns null when it already is. */
  reseal(sealed: string, context = ''): string | null {
    return this.isCurrent(sealed) ? null : this.sealBytes(this.openBytes(sealed, context), context);
  }
}

/** A short public id of a master key, stored in every ciphertext it made. */
export function masterKeyId(masterKey: Buffer): string {
  return createHmac('sha256', masterKey).update('tessera:key-id').digest('base64url').slice(0, 8);
}
