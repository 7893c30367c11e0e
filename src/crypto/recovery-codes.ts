import { randomInt } from 'node:crypto';
import { hashBearerSecret } from './random.js';

/** Lower-case RFC 4648 base32: no 0/1/8/9, so no o/l/b/g confusion when typed from paper. */
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const GROUPS = 4;
const GROUP_LENGTH = 4;

/** A recovery code: 16 base32 characters (80 random bits) as "xxxx-xxxx-xxxx-xxxx". */
export function newRecoveryCode(): string {
  const groups: string[] = [];
  for (let g = 0; g < GROUPS; g++) {
    let group = '';
    for (let i = 0; i < GROUP_LENGTH; i++) group += ALPHABET[randomInt(ALPHABET.length)];
    groups.push(group);
  }
  return groups.join('-');
}

/** The code as typed (any case, dashes and spaces anywhere) in its canonical form, or null when it cannot be one. */
export function normalizeRecoveryCode(raw: string): string | null {
  const code = raw.replace(/[\s-]/g, '').toLowerCase();
  return code.length === GROUPS * GROUP_LENGTH && [...code].every((c) => ALPHABET.includes(c)) ? code : null;
}

/**
 * What is stored of a recovery code: SHA-256 of the user id and the canonical
 * code. 80 random bits need no slow hash; the user id keeps equal codes of
 * two users (never expected) apart.
 */
export function hashRecoveryCode(userId: string, canonicalCode: string): string {
  return hashBearerSecret(`${userId}:${canonicalCode}`);
}
