import { createHmac } from 'node:crypto';

/**
 * The keyed blind index of a provider account: HMAC-SHA-256 of (provider,
 * subject) under a key derived from TESSERA_EMAIL_INDEX_KEY with its own
 * label, so it never equals an email index. It serves LoginWithProvider's
 * lookup and the one-link-per-subject rule; without the key, a dump holding it
 * cannot be searched for a known subject.
 */
export class ProviderSubjectIndex {
  private readonly key: Buffer;

  constructor(secret: Buffer) {
    this.key = createHmac('sha256', secret).update('tessera:provider-subject-index:v1').digest();
  }

  /** The index of `subject` at `provider`; the JSON pair keeps ("a:b", "c") apart from ("a", "b:c"). */
  of(provider: string, subject: string): string {
    return createHmac('sha256', this.key)
      .update(JSON.stringify([provider, subject]), 'utf8')
      .digest('base64url');
  }
}
