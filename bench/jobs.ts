// What run.ts asks of a load process, and what the process answers.

/** Settings every load shares: how many calls in flight, and when to stop (whichever comes first). */
export interface Bounds {
  concurrency: number;
  seconds: number;
  maxCalls: number;
  /** HTTP/2 connections the read loads (echo, get-profile, introspect) spread their slots over; default 1. */
  connections?: number;
}

/** argon2id parameters as Tessera is configured. */
export interface HashParams {
  memoryKib: number;
  timeCost: number;
  parallelism: number;
  /** Tessera's bound on hashes running at once (PASSWORD_HASH_CONCURRENCY). */
  maxConcurrent: number;
  /** Base64 pepper, passed to argon2 as `secret` exactly as Tessera does. */
  pepper: string;
}

/** Tokens and accounts made before the phases start. */
export interface Seed {
  password: string;
  emails: string[];
  /** One access token of a seeded user. */
  accessToken: string;
  /** One refresh token per in-flight slot: a rotation chain must not be shared. */
  refreshTokens: string[];
  adminToken: string;
  /** Access tokens of seeded users, for audited profile writes. */
  userTokens: string[];
}

export type Job =
  | ({ kind: 'echo'; address: string } & Bounds)
  | ({ kind: 'argon2-hash' | 'argon2-verify'; params: HashParams } & Bounds)
  | ({
      kind: 'register' | 'login' | 'refresh' | 'get-profile' | 'introspect' | 'list-users';
      address: string;
      seed: Seed;
    } & Bounds)
  | ({ kind: 'audit-writes'; address: string; seed: Seed } & Bounds)
  | { kind: 'audit-subscribe'; address: string; seed: Seed; subscribers: number; maxWaitSeconds: number };

/** Rate and latency of one load phase. */
export interface LoadResult {
  calls: number;
  errors: number;
  /** The first error's message, to tell a broken path from a slow one. */
  firstError?: string;
  seconds: number;
  rate: number;
  p50: number;
  p99: number;
  /** RefreshToken only: the latest refresh token of each chain, for the next round. */
  refreshTokens?: string[];
}

/** What the audit subscribers saw. */
export interface SubscribeResult {
  subscribers: number;
  delivered: number;
  /** Deliveries per second over all subscribers, first to last arrival. */
  rate: number;
  /** occurred_at (stamped just before the commit) to arrival, in ms. */
  p50: number;
  p99: number;
  /** Every stream received strictly increasing ids. */
  inOrder: boolean;
  /** Every stream received every committed write. */
  complete: boolean;
}

/** Messages from a load process to run.ts. */
export type LoadMessage =
  | { type: 'ready' }
  | { type: 'result'; result: LoadResult }
  | { type: 'subscribed'; result: SubscribeResult }
  | { type: 'failed'; message: string };

/** The p-th quantile (0..1) of ascending values; NaN when empty. */
export function quantile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}
