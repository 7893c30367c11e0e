import type { GuessKeys, GuessLimiter, GuessReservation } from '../domain/kernel/rate-limits.js';
import { clientKeyOf } from './client-key.js';
import type { Counter, LimiterStore } from './limiter-store.js';

export interface GuessLimitSettings {
  /** Failed guesses allowed per account (normalized email) within the window. */
  failuresPerAccount: number;
  /** Failed guesses allowed per client (IPv4 address or IPv6 /64) within the window. */
  failuresPerIp: number;
  windowSeconds: number;
  /** How long the first lock of a key lasts; each further lock within a day doubles it. */
  lockSeconds: number;
  /** The longest lock. */
  maxLockSeconds: number;
}

const DAY_SECONDS = 24 * 3600;

/**
 * Guesses counted per account and per client, reserved before they are
 * checked. The store's counters are atomic, so the reservation that takes an
 * account's last attempt is exactly one: its failure locks the account.
 */
export class StoreGuessLimiter implements GuessLimiter {
  private readonly byAccount: LockingCounter;
  private readonly byClient: LockingCounter;

  constructor(store: LimiterStore, settings: GuessLimitSettings) {
    const lock = { lockSeconds: settings.lockSeconds, maxLockSeconds: settings.maxLockSeconds };
    this.byAccount = new LockingCounter(store, 'guess-account', settings.failuresPerAccount, settings.windowSeconds, lock);
    this.byClient = new LockingCounter(store, 'guess-client', settings.failuresPerIp, settings.windowSeconds, lock);
  }

  async reserve(keys: GuessKeys): Promise<GuessReservation> {
    const client = keys.ip ? clientKeyOf(keys.ip) : null;
    const clientTake = client ? await this.byClient.take(client) : undefined;
    if (clientTake && !clientTake.granted) return clientTake;
    const accountTake = await this.byAccount.take(keys.account);
    if (!accountTake.granted) {
      // Not checked, so not a guess of this client's.
      if (client) await this.byClient.giveBack(client);
      return accountTake;
    }
    return {
      granted: true,
      guess: {
        succeeded: async () => {
          await Promise.all([this.byAccount.reset(keys.account), client ? this.byClient.giveBack(client) : undefined]);
        },
        passed: async () => {
          await Promise.all([this.byAccount.giveBack(keys.account), client ? this.byClient.giveBack(client) : undefined]);
        },
        failed: async () => {
          await Promise.all([
            accountTake.last ? this.byAccount.lock(keys.account) : undefined,
            client && clientTake?.granted && clientTake.last ? this.byClient.lock(client) : undefined,
          ]);
          return { locked: accountTake.last };
        },
      },
    };
  }
}

type Take = { granted: true; last: boolean } | { granted: false; retryAfterMs: number };

/** Attempts per key, and locks that double for each further lock of the key within a day. */
class LockingCounter {
  private readonly attempts: Counter;
  private readonly locks: Counter;

  constructor(
    store: LimiterStore,
    name: string,
    private readonly points: number,
    windowSeconds: number,
    private readonly lockTimes: { lockSeconds: number; maxLockSeconds: number },
  ) {
    this.attempts = store.counter({ name, points, durationSeconds: windowSeconds });
    this.locks = store.counter({ name: `${name}-locks`, points: Number.MAX_SAFE_INTEGER, durationSeconds: DAY_SECONDS });
  }

  async take(key: string): Promise<Take> {
    const count = await this.attempts.consume(key);
    if ('refused' in count) return { granted: false, retryAfterMs: count.msBeforeNext };
    return { granted: true, last: count.consumed === this.points };
  }

  giveBack(key: string): Promise<void> {
    return this.attempts.reward(key);
  }

  reset(key: string): Promise<void> {
    return this.attempts.delete(key);
  }

  /** Locks the key for the base time, doubled for each earlier lock within a day, at most the cap. */
  async lock(key: string): Promise<void> {
    const { consumed: nth } = await this.locks.penalty(key);
    const cap = Math.max(this.lockTimes.maxLockSeconds, this.lockTimes.lockSeconds);
    await this.attempts.block(key, Math.min(this.lockTimes.lockSeconds * 2 ** (nth - 1), cap));
  }
}
