import argon2 from 'argon2';
import { createHmac } from 'node:crypto';
import { passwordSchemeOf, verifyBcrypt, verifyPbkdf2 } from './legacy-hashes.js';
import { inSpan } from '../telemetry/spans.js';
import { Semaphore } from './semaphore.js';

/** argon2id cost parameters (OWASP defaults: 19 MiB, 2 passes, 1 lane). */
interface Argon2Params {
  memoryKib: number;
  timeCost: number;
  parallelism: number;
}

export interface PasswordHasherOptions extends Argon2Params {
  pepper: Buffer;
  /** Peppers that were current before; hashes made with them still verify and are rehashed. */
  previousPeppers?: Buffer[];
  /** How many hashes may run at once; the rest queue. */
  maxConcurrent: number;
  /** How long a hash may wait in the queue before the caller gets an error. */
  queueTimeoutMs: number;
}

/** A hash as stored: the PHC-style string and the id of the pepper it was made with. */
export interface StoredPassword {
  hash: string;
  /** A pepper id, NO_PEPPER for imported hashes made without one, or null when unknown (try them all). */
  pepperId: string | null;
}

/** Span attribute: which algorithm a hash or verification ran (never anything of the password or hash). */
const SCHEME = 'tessera.password.scheme';

/** The pepper id of hashes made without a pepper (imported argon2). */
export const NO_PEPPER = 'none';

/** The outcome of checking a password against a stored hash. */
export interface PasswordCheck {
  ok: boolean;
  /** True when the password matched but the hash should be remade (legacy scheme, old parameters or pepper). */
  needsRehash: boolean;
}

/** A short public name for a pepper, so stored hashes say which one they need without revealing it. */
export function pepperIdOf(pepper: Buffer): string {
  return createHmac('sha256', pepper).update('tessera:pepper-id').digest('base64url').slice(0, 8);
}

/**
 * argon2id hashing with a pepper (argon2's `secret`), bounded concurrency and a
 * dummy verification for unknown accounts, so that an unknown email costs the
 * same time as a wrong password.
 *
 * Verification also accepts what imports and older configurations left behind:
 * bcrypt, PBKDF2 and unpeppered argon2 hashes, and hashes made with a previous
 * pepper. Each reports `needsRehash`, so the caller upgrades it while it holds
 * the plain password.
 */
export class PasswordHasher {
  /** The id stored with every new hash. */
  readonly pepperId: string;
  private readonly peppers: Map<string, Buffer>;
  private readonly gate: Semaphore;
  private dummyHash: Promise<StoredPassword> | undefined;

  constructor(private readonly options: PasswordHasherOptions) {
    this.gate = new Semaphore(options.maxConcurrent, 'password.queue');
    this.pepperId = pepperIdOf(options.pepper);
    this.peppers = new Map([options.pepper, ...(options.previousPeppers ?? [])].map((p) => [pepperIdOf(p), p]));
  }

  /**
   * Hashes a password (already policy-checked and NFKC-normalized). A caller
   * that gave up while it was hashed gets the abort reason instead of a hash:
   * nothing is stored for a client that will never hear of it.
   */
  async hash(password: string, signal?: AbortSignal): Promise<StoredPassword> {
    const hash = await this.gate.run(
      () =>
        inSpan('password.hash', { [SCHEME]: 'argon2' }, () =>
          argon2.hash(password, {
            type: argon2.argon2id,
            memoryCost: this.options.memoryKib,
            timeCost: this.options.timeCost,
            parallelism: this.options.parallelism,
            secret: this.options.pepper,
          }),
        ),
      this.options.queueTimeoutMs,
      signal,
    );
    signal?.throwIfAborted();
    return { hash, pepperId: this.pepperId };
  }

  /** Checks a password against a stored hash of any supported scheme. A malformed hash never matches. */
  verify(stored: StoredPassword, password: string, signal?: AbortSignal): Promise<PasswordCheck> {
    return this.gate.run(
      () =>
        inSpan('password.verify', { [SCHEME]: passwordSchemeOf(stored.hash) ?? 'unknown' }, () =>
          this.verifyNow(stored, password),
        ),
      this.options.queueTimeoutMs,
      signal,
    );
  }

  /**
   * Spends the time of a real verification and returns false. Used when no
   * account matches, so response time does not reveal which emails exist.
   */
  async verifyDummy(password: string, signal?: AbortSignal): Promise<false> {
    // Forget a failed attempt (e.g. a queue timeout under load): a cached rejection
    // would fail every later unknown-email login unlike a wrong password.
    this.dummyHash ??= this.hash('tessera-dummy-password-never-matches').catch((err: unknown) => {
      this.dummyHash = undefined;
      throw err;
    });
    await this.verify(await this.dummyHash, password, signal);
    return false;
  }

  private async verifyNow(stored: StoredPassword, password: string): Promise<PasswordCheck> {
    const no = { ok: false, needsRehash: false };
    switch (passwordSchemeOf(stored.hash)) {
      case 'bcrypt':
        return (await verifyBcrypt(stored.hash, password)) ? { ok: true, needsRehash: true } : no;
      case 'pbkdf2':
        return (await verifyPbkdf2(stored.hash, password)) ? { ok: true, needsRehash: true } : no;
      case 'argon2':
        for (const [pepperId, secret] of this.candidatePeppers(stored.pepperId)) {
          if (await verifyArgon2(stored.hash, password, secret)) {
            return { ok: true, needsRehash: pepperId !== this.pepperId || this.hasOutdatedParams(stored.hash) };
          }
        }
        return no;
      default:
        return no;
    }
  }

  /** The peppers a hash may have been made with, as [id, secret] pairs. */
  private candidatePeppers(pepperId: string | null): [string, Buffer | undefined][] {
    if (pepperId === NO_PEPPER) return [[NO_PEPPER, undefined]];
    if (pepperId === null) return [...this.peppers];
    const pepper = this.peppers.get(pepperId);
    return pepper ? [[pepperId, pepper]] : [];
  }

  /** True when an argon2 hash is not argon2id with the current cost parameters. */
  private hasOutdatedParams(hash: string): boolean {
    if (!hash.startsWith('$argon2id$')) return true;
    try {
      return argon2.needsRehash(hash, {
        memoryCost: this.options.memoryKib,
        timeCost: this.options.timeCost,
        parallelism: this.options.parallelism,
      });
    } catch {
      return true;
    }
  }
}

async function verifyArgon2(hash: string, password: string, secret: Buffer | undefined): Promise<boolean> {
  try {
    return await argon2.verify(hash, password, secret ? { secret } : {});
  } catch {
    return false;
  }
}
