import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM encryption under a key derived from the master key for one
 * purpose, so a signing key and a phone number never share an encryption key.
 *
 * Output: `v1.<keyId>.<iv>.<tag>.<ciphertext>` (base64url parts). The key id
 * names the master key it was made with, so keys can rotate and old
 * ciphertext still decrypts.
 */
export class SecretBox {
  private readonly key: Buffer;
  readonly keyId: string;

  constructor(masterKey: Buffer, purpose: string) {
    this.key = createHmac('sha256', masterKey).update(`tessera:${purpose}`).digest();
    this.keyId = createHmac('sha256', masterKey).update('tessera:key-id').digest('base64url').slice(0, 8);
  }

  /** Encrypts `plaintext`; `context` is authenticated too (e.g. the owning row's id). */
  seal(plaintext: string, context = ''): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: 16 });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return ['v1', this.keyId, iv.toString('base64url'), tag.toString('base64url'), ciphertext.toString('base64url')].join('.');
  }

  /** Decrypts what `seal` produced with the same context; throws if anything was altered. */
  open(sealed: string, context = ''): string {
    const [version, keyId, iv, tag, ciphertext] = sealed.split('.');
    if (version !== 'v1' || keyId !== this.keyId || iv === undefined || tag === undefined || ciphertext === undefined) {
      throw new Error('unsupported ciphertext');
    }
    // authTagLength pins the tag size: Node otherwise accepts truncated tags.
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'), { authTagLength: 16 });
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  }
}
