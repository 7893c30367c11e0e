import type { SecondFactorStore } from '../../src/domain/kernel/operation.js';
import { harness } from './harness.js';
import type { TestServer } from './server.js';

/** The one code the stand-in factor accepts. */
export const VALID_CODE = '246810';

/**
 * A stand-in for the TOTP factors (built on another branch) behind the
 * `deps.secondFactors` port: the users in `enrolled` have an active factor
 * whose only valid code is VALID_CODE.
 */
export class StandInSecondFactors implements SecondFactorStore {
  readonly enrolled = new Set<string>();
  /** How many codes were checked, right or wrong. */
  checked = 0;

  hasActive(_op: unknown, userId: string): Promise<boolean> {
    return Promise.resolve(this.enrolled.has(userId));
  }

  verifyCode(_op: unknown, userId: string, code: string): Promise<boolean> {
    this.checked++;
    return Promise.resolve(this.enrolled.has(userId) && code === VALID_CODE);
  }
}

/** Puts a stand-in behind `server`'s second-factor port until `restore()`. */
export function standInSecondFactors(server: TestServer = harness().server): {
  factors: StandInSecondFactors;
  restore(): void;
} {
  const deps = server.tessera.deps;
  const original = deps.secondFactors;
  const factors = new StandInSecondFactors();
  deps.secondFactors = factors;
  return { factors, restore: () => (deps.secondFactors = original) };
}
