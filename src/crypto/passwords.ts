import argon2 from 'argon2';
import { Semaphore } from './semaphore.js';

/** argon2id cost parameters (OWASP defaults: 19 MiB, 2 passes, 1 lane). */
export interface Argon2Params {
  memoryKib: number;
  timeCost: number;
  parallelism: number;
}

export interface PasswordHasherOptions extends Argon2Params {
  pepper: Buffer;
  /** How many hashes may run at once; the rest queue. */
  maxConcurrent: number;
  /** How long a hash may wait in the queue before the caller gets an error. */
  queueTimeoutMs: number;
}

/**
 * argon2id hashing with a pepper (argon2's `secret`), bounded concurrency and a
 * dummy verification for unknown accounts, so that an unknown email costs the
 * same time as a wrong password.
 */
export class PasswordHasher {
  private readonly gate: Semaphore;
  private dummyHash: Promise<string> | undefined;

  constructor(private readonly options: PasswordHasherOptions) {
    this.gate = new Semaphore(options.maxConcurrent);
  }

  /** Hashes a password (already policy-checked and NFKC-normalized). */
  hash(password: string, signal?: AbortSignal): Promise<string> {
    return this.gate.run(
      () =>
        argon2.hash(password, {
          type: argon2.argon2id,
          memoryCost: this.options.memoryKib,
          timeCost: this.options.timeCost,
          parallelism: this.options.parallelism,
          secret: this.options.pepper,
        }),
      this.options.queueTimeoutMs,
      signal,
    );
  }

  /** Checks a password against a stored hash. A malformed hash verifies as false. */
  verify(storedHash: string, password: string, signal?: AbortSignal): Promise<boolean> {
    return this.gate.run(
      async () => {
        try {
          return await argon2.verify(storedHash, password, { secret: this.options.pepper });
        } catch {
          return false;
        }
      },
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

  /** True when a hash was made with other parameters than the current ones. */
  needsRehash(storedHash: string): boolean {
    try {
      return argon2.needsRehash(storedHash, {
        memoryCost: this.options.memoryKib,
        timeCost: this.options.timeCost,
        parallelism: this.options.parallelism,
      });
    } catch {
      return true;
    }
  }
}
