import { Redis } from 'ioredis';
import { createHmac } from 'node:crypto';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { DomainError } from '../domain/kernel/errors.js';
import type { Count, Counter } from './counter.js';
import { oneByOneSteps, redisCounterSteps, type CounterKey, type CounterSteps, type RedisCounterKey } from './counter-steps.js';

/** One kind of count: `points` per key within `durationSeconds` from the key's first point. */
interface CounterOptions {
  name: string;
  points: number;
  durationSeconds: number;
  /**
   * What the count does while a shared store (Redis) cannot be reached.
   * `refuse` (the default) fails every operation with {@link LimiterStoreUnavailable}:
   * for guesses at secrets, where per-instance budgets would multiply by the
   * number of instances. `count-locally` counts in this instance's memory
   * meanwhile: for capacity limits, where a looser bound beats refusing.
   */
  whenUnreachable?: 'refuse' | 'count-locally';
}

/** Where counters live: `memory` for one instance, `redis` shared by every instance of a deployment. */
export interface LimiterStore extends CounterSteps {
  readonly kind: 'memory' | 'redis';
  /** False while a shared store cannot be reached (counters then refuse or count locally). */
  readonly reachable: boolean;
  /** A counter of this store; its keys go to this store's steps only. */
  counter(options: CounterOptions): Counter;
  close(): Promise<void>;
}

/**
 * A count that must be shared could not be reached: the call is refused
 * (UNAVAILABLE, retry shortly) rather than let through uncounted.
 */
export class LimiterStoreUnavailable extends DomainError {
  constructor(cause: unknown) {
    super('unavailable', 'LIMIT-100', 'the service is temporarily unavailable; retry shortly', {
      reason: 'RATE_LIMITS_UNAVAILABLE',
      cause,
    });
  }
}

/** The key of the keyed hash of counter keys, derived from the master key (the same on every instance). */
export function rateLimitKeySecret(masterKey: Buffer): Buffer {
  return createHmac('sha256', masterKey).update('tessera:rate-limit-keys').digest();
}

/** Counters in this instance's memory. */
export function memoryLimiterStore(keySecret: Buffer): LimiterStore {
  return {
    kind: 'memory',
    reachable: true,
    counter: (options) => {
      const limiter = memoryLimiter(options);
      return wrap((op) => op(limiter), keySecret);
    },
    ...oneByOneSteps,
    close: async () => {},
  };
}

export interface RedisLimiterSettings {
  url: string;
  /** Prefix of every key, so deployments (and tests) sharing a Redis stay apart. */
  keyPrefix: string;
  keySecret: Buffer;
  /** How long start-up waits for the first connection before starting without Redis. */
  connectTimeoutMs: number;
  /** How long one command may go unanswered before Redis counts as hung. */
  commandTimeoutMs: number;
}

/** Longest pause between reconnection attempts: Redis' return is noticed within it. */
const MAX_RECONNECT_DELAY_MS = 2000;

/**
 * Counters in Redis, shared by every instance. While Redis cannot be reached
 * (down, or hung: a command unanswered within the timeout), each counter
 * follows its `whenUnreachable`: guesses are refused with UNAVAILABLE,
 * capacity limits count in this instance's memory. Either way the answer is
 * immediate, and the store reconnects by itself. The log and the metrics say
 * when that happens.
 */
export async function redisLimiterStore(settings: RedisLimiterSettings, log: Logger, metrics: Metrics): Promise<LimiterStore> {
  const client = new Redis(settings.url, {
    // Fail at once while disconnected instead of queueing commands until the call's deadline.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: settings.commandTimeoutMs,
    connectTimeout: settings.connectTimeoutMs,
    lazyConnect: true,
    // Never gives up: the store recovers without a restart.
    retryStrategy: (attempt) => Math.min(attempt * 200, MAX_RECONNECT_DELAY_MS),
  });
  const where = redisLocation(settings.url);
  let shared = false;
  const setShared = (up: boolean) => {
    metrics.rateLimitStoreShared.set(up ? 1 : 0);
    if (up === shared) return;
    shared = up;
    if (up) log.info({ redis: where }, 'rate limits: counters shared through Redis');
    else log.warn({ redis: where }, UNREACHABLE_MESSAGE);
  };
  client.on('ready', () => setShared(true));
  client.on('error', (err: Error) => {
    if (shared) log.warn({ redis: where, err: err.message }, 'rate limits: Redis connection error');
    setShared(false);
  });
  client.on('close', () => setShared(false));
  metrics.rateLimitStoreShared.set(0);
  try {
    await client.connect();
  } catch {
    // Logged by the error handler; retryStrategy keeps reconnecting.
    setShared(false);
    log.warn({ redis: where }, `${UNREACHABLE_MESSAGE} (at start-up)`);
  }
  const onFailure = (err: unknown) => {
    // A hung Redis keeps its connection "ready": drop it, so the next commands
    // fail at once (not ready) instead of each waiting out the timeout, and
    // let the reconnection find out when Redis answers again.
    if (err instanceof Error && err.message === 'Command timed out' && client.status === 'ready') {
      log.warn({ redis: where, timeoutMs: settings.commandTimeoutMs }, 'rate limits: Redis did not answer in time; reconnecting');
      client.disconnect(true);
    }
  };
  // Where each counter of this store keeps a key in Redis: the key as RateLimiterRedis names it.
  const redisKeys = new WeakMap<Counter, (key: string) => RedisCounterKey>();
  const redisKeyOf = ({ counter, key }: CounterKey): RedisCounterKey => {
    const of = redisKeys.get(counter);
    if (!of) throw new Error('a counter of another limiter store');
    return of(key);
  };
  return {
    kind: 'redis',
    get reachable() {
      return shared;
    },
    counter: (options) => {
      const keyPrefix = `${settings.keyPrefix}:${options.name}`;
      const inRedis = new RateLimiterRedis({
        storeClient: client,
        rejectIfRedisNotReady: true,
        keyPrefix,
        points: options.points,
        duration: options.durationSeconds,
      });
      const local = options.whenUnreachable === 'count-locally' ? memoryLimiter(options) : undefined;
      const run: Runner = async (op) => {
        try {
          return await op(inRedis);
        } catch (err) {
          // A refusal is the count's answer, not a failure.
          if (err instanceof RateLimiterRes) throw err;
          onFailure(err);
          if (!local) {
            metrics.rateLimitUnavailable.inc();
            throw new LimiterStoreUnavailable(err);
          }
          metrics.rateLimitFallbacks.inc();
          return op(local);
        }
      };
      const counter = wrap(run, settings.keySecret);
      redisKeys.set(counter, (key) => ({
        redisKey: `${keyPrefix}:${hashedKey(settings.keySecret, key)}`,
        points: options.points,
        durationSeconds: options.durationSeconds,
      }));
      return counter;
    },
    // A failed script falls back to the counters' own calls, which refuse or count locally as above.
    ...redisCounterSteps(client, redisKeyOf, onFailure),
    close: async () => {
      // A deliberate close is no outage: nothing to log or report.
      for (const event of ['error', 'close', 'end', 'ready']) client.removeAllListeners(event);
      client.on('error', () => {});
      await client.quit().catch(() => client.disconnect());
    },
  };
}

const UNREACHABLE_MESSAGE =
  "rate limits: Redis unreachable: guesses are refused (UNAVAILABLE) and other limits count in this instance's memory until it is back";

function memoryLimiter(options: CounterOptions): RateLimiterMemory {
  return new RateLimiterMemory({ keyPrefix: options.name, points: options.points, duration: options.durationSeconds });
}

/** Runs one counter operation on the limiter that should answer it. */
type Runner = <T>(op: (limiter: RateLimiterAbstract) => Promise<T>) => Promise<T>;

/** A counter key as the store holds it: keyed-hashed, so no address or IP reaches it. */
function hashedKey(keySecret: Buffer, key: string): string {
  return createHmac('sha256', keySecret).update(key).digest('base64url').slice(0, 32);
}

function wrap(run: Runner, keySecret: Buffer): Counter {
  const hashed = (key: string) => hashedKey(keySecret, key);
  const count = (res: RateLimiterRes): Count => ({ consumed: res.consumedPoints, msBeforeReset: res.msBeforeNext });
  return {
    consume: async (key) => {
      try {
        return count(await run((limiter) => limiter.consume(hashed(key))));
      } catch (err) {
        if (err instanceof RateLimiterRes) return { refused: true, msBeforeNext: Math.max(err.msBeforeNext, 1) };
        throw err;
      }
    },
    penalty: async (key, points = 1) => count(await run((limiter) => limiter.penalty(hashed(key), points))),
    reward: async (key) => {
      await run((limiter) => limiter.reward(hashed(key), 1));
    },
    block: async (key, seconds) => {
      await run((limiter) => limiter.block(hashed(key), seconds));
    },
    delete: async (key) => {
      await run((limiter) => limiter.delete(hashed(key)));
    },
  };
}

/** host:port of a Redis URL, for logs (never its password). */
function redisLocation(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'redis';
  }
}
