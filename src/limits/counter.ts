/** A key's count after a change. */
export interface Count {
  consumed: number;
  msBeforeReset: number;
}

/**
 * Atomic counters per key, in this instance's memory or in Redis. Keys are
 * keyed-hashed before they reach the store, so Redis never holds an email
 * address or an IP.
 */
export interface Counter {
  /** Adds one point; `refused` (with the wait) once the key has no points left or is blocked. */
  consume(key: string): Promise<Count | { refused: true; msBeforeNext: number }>;
  /** Adds `points` without ever refusing. */
  penalty(key: string, points?: number): Promise<Count>;
  /** Gives one point back. */
  reward(key: string): Promise<void>;
  /** Refuses the key for `seconds` from now. */
  block(key: string, seconds: number): Promise<void>;
  /** Forgets the key. */
  delete(key: string): Promise<void>;
}
