import { createHash, randomBytes } from 'node:crypto';

/** The one source of randomness for secrets: 256 bits, base64url, with a readable prefix. */
export function generateOpaqueSecret(prefix: string, bytes = 32): string {
  return `${prefix}${randomBytes(bytes).toString('base64url')}`;
}

/** SHA-256 of a bearer secret, hex. Only this is stored; the secret itself never is. */
export function hashBearerSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}
