import { Redis } from 'ioredis';
import { createHmac } from 'node:crypto';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { Count, Counter } from './counter.js';
import { oneByOneSteps, redisCounterSteps, type CounterKey, type CounterSteps, type RedisCounterKey } from './counter-steps.js';

/** One kind of count: `points` per key within `durationSeconds` from the key's first point. */
interface CounterOptions {
  name: string;
  points: number;
  durationSeconds: number;
}

/** Where counters live: `memory` for one instance, `redis` shared by every instance of a deployment. */
export interface LimiterStore extends CounterSteps {
  readonly kind: 'memory' | 'redis';
  /** A counter of this store; its keys go to this store's steps only. */
  counter(options: CounterOptions): Counter;
  close(): Promise<void>;
}

/** The key of the keyed hash of counter keys, derived from the master key (the same on every instance). */
export function rateLimitKeySecret(masterKey: Buffer): Buffer {
  return createHmac('sha256', masterKey).update('tessera:rate-limit-keys').digest();
}

/** Counters in this instance's memory. */
export function memoryLimiterStore(keySecret: Buffer): LimiterStore {
  return {
    kind: 'memory',
    counter: (options) =>
      wrap(
        new RateLimiterMemory({ keyPrefix: options.name, points: options.points, duration: options.durationSeconds }),
        keySecret,
      ),
    ...oneByOneSteps,
    close: async () => {},
  };
}

export interface RedisLimiterSettings {
  url: string;
  /** Prefix of every key, so deployments (and tests) sharing a Redis stay apart. */
  keyPrefix: string;
  keySecret: Buffer;
  /** How long start-up waits for the first connection before starting on the fallback. */
  connectTimeoutMs: number;
}

/**
 * Counters in Redis, shared by every instance. While Redis cannot be reached
 * each counter falls back to this instance's memory (rate-limiter-flexible's
 * insurance limiter): limits still hold, per instance, instead of failing
 * open. The log and the metrics say when that happens.
 */
export async function redisLimiterStore(settings: RedisLimiterSettings, log: Logger, metrics: Metrics): Promise<LimiterStore> {
  const client = new Redis(settings.url, {
    // Fail fast to the fallback instead of queueing commands while disconnected.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 1000,
    connectTimeout: settings.connectTimeoutMs,
    lazyConnect: true,
    retryStrategy: (attempt) => Math.min(attempt * 200, 5000),
  });
  const where = redisLocation(settings.url);
  let shared = false;
  const setShared = (up: boolean) => {
    metrics.rateLimitStoreShared.set(up ? 1 : 0);
    if (up === shared) return;
    shared = up;
    if (up) log.info({ redis: where }, 'rate limits: counters shared through Redis');
    else log.warn({ redis: where }, "rate limits: Redis unreachable, counting in this instance's memory until it is back");
  };
  client.on('ready', () => setShared(true));
  client.on('error', (err: Error) => {
    if (shared) log.warn({ redis: where, err: err.message }, 'rate limits: Redis connection error');
    setShared(false);
  });
  client.on('end', () => setShared(false));
  metrics.rateLimitStoreShared.set(0);
  try {
    await client.connect();
  } catch {
    // Logged by the error handler; retryStrategy keeps reconnecting.
    setShared(false);
    log.warn({ redis: where }, "rate limits: Redis unreachable at start-up, counting in this instance's memory until it is back");
  }
  const onFallback = () => metrics.rateLimitFallbacks.inc();
  // Where each counter of this store keeps a key in Redis: the key as RateLimiterRedis names it.
  const redisKeys = new WeakMap<Counter, (key: string) => RedisCounterKey>();
  const redisKeyOf = ({ counter, key }: CounterKey): RedisCounterKey => {
    const of = redisKeys.get(counter);
    if (!of) throw new Error('a counter of another limiter store');
    return of(key);
  };
  return {
    kind: 'redis',
    counter: (options) => {
      const keyPrefix = `${settings.keyPrefix}:${options.name}`;
      const counter = wrap(
        new RateLimiterRedis({
          storeClient: client,
          rejectIfRedisNotReady: true,
          keyPrefix,
          points: options.points,
          duration: options.durationSeconds,
          insuranceLimiter: new FallbackLimiter(
            { keyPrefix: options.name, points: options.points, duration: options.durationSeconds },
            onFallback,
          ),
        }),
        settings.keySecret,
      );
      redisKeys.set(counter, (key) => ({
        redisKey: `${keyPrefix}:${hashedKey(settings.keySecret, key)}`,
        points: options.points,
        durationSeconds: options.durationSeconds,
      }));
      return counter;
    },
    ...redisCounterSteps(client, redisKeyOf),
    close: async () => {
      client.removeAllListeners('error');
      client.on('error', () => {});
      await client.quit().catch(() => client.disconnect());
    },
  };
}

/** The in-memory limiter Redis counters fall back to; counts each use. */
class FallbackLimiter extends RateLimiterMemory {
  constructor(
    options: ConstructorParameters<typeof RateLimiterMemory>[0],
    private readonly onUse: () => void,
  ) {
    super(options);
  }
  override consume(...args: Parameters<RateLimiterMemory['consume']>): Promise<RateLimiterRes> {
    this.onUse();
    return super.consume(...args);
  }
  override penalty(...args: Parameters<RateLimiterMemory['penalty']>): Promise<RateLimiterRes> {
    this.onUse();
    return super.penalty(...args);
  }
  override reward(...args: Parameters<RateLimiterMemory['reward']>): Promise<RateLimiterRes> {
    this.onUse();
    return super.reward(...args);
  }
  override block(...args: Parameters<RateLimiterMemory['block']>): Promise<RateLimiterRes> {
    this.onUse();
    return super.block(...args);
  }
  override delete(...args: Parameters<RateLimiterMemory['delete']>): Promise<boolean> {
    this.onUse();
    return super.delete(...args);
  }
}

/** A counter key as the store holds it: keyed-hashed, so no address or IP reaches it. */
function hashedKey(keySecret: Buffer, key: string): string {
  return createHmac('sha256', keySecret).update(key).digest('base64url').slice(0, 32);
}

function wrap(limiter: RateLimiterAbstract, keySecret: Buffer): Counter {
  const hashed = (key: string) => hashedKey(keySecret, key);
  const count = (res: RateLimiterRes): Count => ({ consumed: res.consumedPoints, msBeforeReset: res.msBeforeNext });
  return {
    consume: async (key) => {
      try {
        return count(await limiter.consume(hashed(key)));
      } catch (err) {
        if (err instanceof RateLimiterRes) return { refused: true, msBeforeNext: Math.max(err.msBeforeNext, 1) };
        throw err;
      }
    },
    penalty: async (key, points = 1) => count(await limiter.penalty(hashed(key), points)),
    reward: async (key) => {
      await limiter.reward(hashed(key), 1);
    },
    block: async (key, seconds) => {
      await limiter.block(hashed(key), seconds);
    },
    delete: async (key) => {
      await limiter.delete(hashed(key));
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
