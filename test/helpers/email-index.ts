import { EmailIndex } from '../../src/crypto/email-index.js';
import { normalizeEmail } from '../../src/domain/kernel/validation.js';

/**
 * The email index key of every server and CLI process a test starts (unless it
 * sets its own): processes on one database must agree on it, as instances of
 * one deployment do.
 */
export const TEST_EMAIL_INDEX_KEY = Buffer.alloc(32, 7).toString('base64');

const index = new EmailIndex(Buffer.from(TEST_EMAIL_INDEX_KEY, 'base64'));

/** The blind index stored for `email` (users.email_index), for tests that look rows up in SQL. */
export function emailIndexOf(email: string): string {
  return index.of(normalizeEmail(email));
}
