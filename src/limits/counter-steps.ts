import type { Redis } from 'ioredis';
import type { Counter } from './counter.js';

/** One key of one counter. */
export interface CounterKey {
  counter: Counter;
  key: string;
}

/** What consumeInOrder found: each key's count, or the wait of the first key that refused. */
type OrderedCounts = { refused: false; consumed: number[] } | { refused: true; msBeforeNext: number };

/** A change settleAll makes to a key: a point given back, or the key forgotten. */
export interface Settlement extends CounterKey {
  change: 'reward' | 'delete';
}

/**
 * Several counter changes made as one step. A guess touches two counters
 * (the client's and the account's) before and after it is checked; in Redis,
 * each change on its own is a round trip, and the two of a step would not
 * happen together.
 */
export interface CounterSteps {
  /**
   * Takes one point of each key in order, stopping at the first that refuses
   * and giving back the points taken before it (the refusing key keeps its
   * own, as `Counter.consume` does).
   */
  consumeInOrder(keys: CounterKey[]): Promise<OrderedCounts>;
  /** Gives a point back to, or forgets, each key. */
  settleAll(changes: Settlement[]): Promise<void>;
}

/** The steps as the counters' own calls, one after the other: in memory, and Redis' fallback. */
export const oneByOneSteps: CounterSteps = {
  async consumeInOrder(keys) {
    const consumed: number[] = [];
    for (const [index, { counter, key }] of keys.entries()) {
      const count = await counter.consume(key);
      if ('refused' in count) {
        await Promise.all(keys.slice(0, index).map((taken) => taken.counter.reward(taken.key)));
        return { refused: true, msBeforeNext: count.msBeforeNext };
      }
      consumed.push(count.consumed);
    }
    return { refused: false, consumed };
  },
  async settleAll(changes) {
    await Promise.all(changes.map((c) => (c.change === 'delete' ? c.counter.delete(c.key) : c.counter.reward(c.key))));
  },
};

/** Where a Redis counter keeps a key, and its limits (as rate-limiter-flexible's RateLimiterRedis keeps them). */
export interface RedisCounterKey {
  redisKey: string;
  points: number;
  durationSeconds: number;
}

/**
 * A change of one key exactly as rate-limiter-flexible's RateLimiterRedis
 * makes it (its incrTtl script), so both work on the same keys: a consume is
 * +1, a reward -1, and the window starts with the key's first change.
 */
const CHANGE = `
local function change(key, delta, duration)
  redis.call('set', key, 0, 'EX', duration, 'NX')
  local consumed = redis.call('incrby', key, delta)
  local ttl = redis.call('pttl', key)
  if ttl == -1 then
    redis.call('expire', key, duration)
    ttl = 1000 * duration
  end
  return consumed, ttl
end
`;

/** KEYS in order; ARGV: points and duration of each. Returns {0, counts...} or {index of the refusing key, its pttl}. */
const CONSUME_IN_ORDER = `${CHANGE}
local counts = {0}
for i, key in ipairs(KEYS) do
  local points, duration = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local consumed, ttl = change(key, 1, duration)
  if consumed > points then
    for j = 1, i - 1 do change(KEYS[j], -1, tonumber(ARGV[2 * j])) end
    return {i, ttl}
  end
  counts[i + 1] = consumed
end
return counts
`;

/** KEYS; ARGV: 'delete', or the duration of a key to give a point back to. */
const SETTLE_ALL = `${CHANGE}
for i, key in ipairs(KEYS) do
  if ARGV[i] == 'delete' then redis.call('del', key) else change(key, -1, tonumber(ARGV[i])) end
end
return 0
`;

interface ScriptClient {
  tesseraConsumeInOrder(keyCount: number, ...keysAndArgs: (string | number)[]): Promise<number[]>;
  tesseraSettleAll(keyCount: number, ...keysAndArgs: (string | number)[]): Promise<number>;
}

/**
 * The steps as one Lua script each (ioredis defineCommand: EVALSHA, loaded
 * on first use): one round trip and atomic. While Redis is not ready, or a
 * script fails, the steps fall back to the counters' own calls, which refuse
 * (guesses: UNAVAILABLE) or count in the instance's memory as each counter's
 * `whenUnreachable` says (a script that
 * timed out may have run: its steps then count twice, which errs on the side
 * of refusing).
 */
export function redisCounterSteps(
  client: Redis,
  keyOf: (key: CounterKey) => RedisCounterKey,
  /** Told of a script's failure first (a timeout drops the hung connection). */
  onFailure: (err: unknown) => void = () => {},
): CounterSteps {
  client.defineCommand('tesseraConsumeInOrder', { lua: CONSUME_IN_ORDER });
  client.defineCommand('tesseraSettleAll', { lua: SETTLE_ALL });
  const scripts = client as unknown as ScriptClient;
  const ready = () => client.status === 'ready';
  return {
    async consumeInOrder(keys) {
      if (!ready()) return oneByOneSteps.consumeInOrder(keys);
      const counters = keys.map(keyOf);
      let reply: number[];
      try {
        reply = await scripts.tesseraConsumeInOrder(
          counters.length,
          ...counters.map((c) => c.redisKey),
          ...counters.flatMap((c) => [c.points, c.durationSeconds]),
        );
      } catch (err) {
        onFailure(err);
        return oneByOneSteps.consumeInOrder(keys);
      }
      const [refusedAt, ...rest] = reply;
      return refusedAt === 0 ? { refused: false, consumed: rest } : { refused: true, msBeforeNext: Math.max(rest[0]!, 1) };
    },
    async settleAll(changes) {
      if (!ready()) return oneByOneSteps.settleAll(changes);
      const counters = changes.map(keyOf);
      try {
        await scripts.tesseraSettleAll(
          counters.length,
          ...counters.map((c) => c.redisKey),
          ...changes.map((c, i) => (c.change === 'delete' ? 'delete' : counters[i]!.durationSeconds)),
        );
      } catch (err) {
        onFailure(err);
        await oneByOneSteps.settleAll(changes);
      }
    },
  };
}
