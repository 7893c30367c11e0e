import { createHmac } from 'node:crypto';

/**
 * The keyed blind index of an email address: HMAC-SHA-256 of the normalized
 * address under TESSERA_EMAIL_INDEX_KEY. It serves equality only (sign-in,
 * uniqueness, exact filters); without the key, a dump holding it cannot be
 * searched for a guessed address. The key is separate from the master key on
 * purpose: a master key rotation must not change every stored index.
 */
export class EmailIndex {
  private readonly key: Buffer;

  constructor(secret: Buffer) {
    // A purpose-bound key, so the configured secret is never used raw.
    this.key = createHmac('sha256', secret).update('tessera:email-index:v1').digest();
  }

  /** The index of a normalized address (see normalizeEmail). */
  of(normalizedEmail: string): string {
    return createHmac('sha256', this.key).update(normalizedEmail, 'utf8').digest('base64url');
  }
}
