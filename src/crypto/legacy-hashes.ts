import { verify as bcryptVerify } from '@node-rs/bcrypt';
import { pbkdf2, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

/** The hash families Tessera can verify. Only argon2id is ever written; the others arrive by import. */
export type PasswordScheme = 'argon2' | 'bcrypt' | 'pbkdf2';

/** More iterations than this would let one imported hash tie up a CPU for seconds per sign-in. */
const PBKDF2_MAX_ITERATIONS = 5_000_000;

const BCRYPT = /^\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}$/;
const ARGON2 = /^\$argon2(id|i|d)\$(v=\d+\$)?m=\d+,t=\d+,p=\d+(,[a-z]+=[^$,]*)*\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;

interface Pbkdf2Hash {
  digest: 'sha1' | 'sha256' | 'sha512';
  iterations: number;
  salt: Buffer;
  hash: Buffer;
}

/** The family of a stored hash, or null for a format Tessera cannot verify. */
export function passwordSchemeOf(hash: string): PasswordScheme | null {
  if (ARGON2.test(hash)) return 'argon2';
  if (BCRYPT.test(hash)) return 'bcrypt';
  if (parsePbkdf2(hash)) return 'pbkdf2';
  return null;
}

/** Verifies a bcrypt hash ($2a$, $2b$, $2y$) on the libuv pool, never on the event loop. */
export async function verifyBcrypt(hash: string, password: string): Promise<boolean> {
  try {
    return await bcryptVerify(password, hash);
  } catch {
    return false;
  }
}

/** Verifies a PBKDF2 hash in Django's or passlib's format with node:crypto (async). */
export async function verifyPbkdf2(hash: string, password: string): Promise<boolean> {
  const parsed = parsePbkdf2(hash);
  if (!parsed) return false;
  const derived = await pbkdf2Async(password, parsed.salt, parsed.iterations, parsed.hash.length, parsed.digest);
  return timingSafeEqual(derived, parsed.hash);
}

const DIGESTS: Record<string, Pbkdf2Hash['digest']> = { sha1: 'sha1', sha256: 'sha256', sha512: 'sha512' };

/**
 * Two common PBKDF2 encodings:
 * - Django: `pbkdf2_sha256$<iterations>$<salt text>$<base64 hash>`
 * - passlib: `$pbkdf2-sha256$<iterations>$<ab64 salt>$<ab64 hash>` (`$pbkdf2$` is SHA-1),
 *   where ab64 is base64 with "." for "+" and no padding.
 */
function parsePbkdf2(hash: string): Pbkdf2Hash | null {
  const django = hash.match(/^pbkdf2_(sha1|sha256|sha512)\$(\d{1,9})\$([^$]{1,128})\$([A-Za-z0-9+/]+={0,2})$/);
  const passlib = hash.match(/^\$pbkdf2(?:-(sha256|sha512))?\$(\d{1,9})\$([A-Za-z0-9./]{1,172})\$([A-Za-z0-9./]{16,172})$/);
  const parsed: Pbkdf2Hash | null = django
    ? {
        digest: DIGESTS[django[1]],
        iterations: Number(django[2]),
        salt: Buffer.from(django[3], 'utf8'),
        hash: Buffer.from(django[4], 'base64'),
      }
    : passlib
      ? {
          digest: DIGESTS[passlib[1] ?? 'sha1'],
          iterations: Number(passlib[2]),
          salt: Buffer.from(passlib[3].replaceAll('.', '+'), 'base64'),
          hash: Buffer.from(passlib[4].replaceAll('.', '+'), 'base64'),
        }
      : null;
  if (!parsed || parsed.iterations < 1 || parsed.iterations > PBKDF2_MAX_ITERATIONS || parsed.hash.length < 16) return null;
  return parsed;
}
