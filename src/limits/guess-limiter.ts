import type { GuessKeys, GuessLimiter, GuessReservation } from '../domain/kernel/rate-limits.js';
import { clientKeyOf } from './client-key.js';
import type { CounterKey, Settlement } from './counter-steps.js';
import type { Counter } from './counter.js';
import type { LimiterStore } from './limiter-store.js';

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
 * account's last attempt is exactly one: its failure locks the account. A
 * Login reserves and settles its guess in one store step each.
 */
export class StoreGuessLimiter implements GuessLimiter {
  private readonly byAccount: LockingCounter;
  private readonly byClient: LockingCounter;

  constructor(
    private readonly store: LimiterStore,
    settings: GuessLimitSettings,
  ) {
    const lock = { lockSeconds: settings.lockSeconds, maxLockSeconds: settings.maxLockSeconds };
    this.byAccount = new LockingCounter(store, 'guess-account', settings.failuresPerAccount, settings.windowSeconds, lock);
    this.byClient = new LockingCounter(store, 'guess-client', settings.failuresPerIp, settings.windowSeconds, lock);
  }

  async reserve(keys: GuessKeys): Promise<GuessReservation> {
    const client = keys.ip ? clientKeyOf(keys.ip) : null;
    const account = this.byAccount.attempt(keys.account);
    const byClient = client ? this.byClient.attempt(client) : undefined;
    // One step (one Redis round trip): the client's attempt, then the account's. An account that refuses
    // gives the client's attempt back: not checked, so not a guess of this client's.
    const counts = await this.store.consumeInOrder(byClient ? [byClient, account] : [account]);
    if (counts.refused) return { granted: false, retryAfterMs: counts.msBeforeNext };
    const clientLast = byClient !== undefined && counts.consumed[0] === this.byClient.points;
    const accountLast = counts.consumed.at(-1) === this.byAccount.points;
    const clientBack: Settlement[] = byClient ? [{ ...byClient, change: 'reward' }] : [];
    return {
      granted: true,
      guess: {
        succeeded: () => this.store.settleAll([{ ...account, change: 'delete' }, ...clientBack]),
        passed: () => this.store.settleAll([{ ...account, change: 'reward' }, ...clientBack]),
        failed: async () => {
          await Promise.all([
            accountLast ? this.byAccount.lock(keys.account) : undefined,
            client && clientLast ? this.byClient.lock(client) : undefined,
          ]);
          return { locked: accountLast };
        },
      },
    };
  }
}

/** Attempts per key, and locks that double for each further lock of the key within a day. */
class LockingCounter {
  private readonly attempts: Counter;
  private readonly locks: Counter;

  constructor(
    store: LimiterStore,
    name: string,
    readonly points: number,
    windowSeconds: number,
    private readonly lockTimes: { lockSeconds: number; maxLockSeconds: number },
  ) {
    this.attempts = store.counter({ name, points, durationSeconds: windowSeconds });
    this.locks = store.counter({ name: `${name}-locks`, points: Number.MAX_SAFE_INTEGER, durationSeconds: DAY_SECONDS });
  }

  /** The attempts counter's key for `key`, for the store's steps. */
  attempt(key: string): CounterKey {
    return { counter: this.attempts, key };
  }

  /** Locks the key for the base time, doubled for each earlier lock within a day, at most the cap. */
  async lock(key: string): Promise<void> {
    const { consumed: nth } = await this.locks.penalty(key);
    const cap = Math.max(this.lockTimes.maxLockSeconds, this.lockTimes.lockSeconds);
    await this.attempts.block(key, Math.min(this.lockTimes.lockSeconds * 2 ** (nth - 1), cap));
  }
}
