import { RateLimiterMemory, type RateLimiterRes } from 'rate-limiter-flexible';
import { DomainError } from '../kernel/errors.js';

export interface LoginThrottleSettings {
  /** Failed password sign-ins allowed per account (normalized email) within the window. */
  failuresPerAccount: number;
  /** Failed password sign-ins allowed per client IP within the window. */
  failuresPerIp: number;
  windowSeconds: number;
}

/**
 * Slows password guessing: after too many failed sign-ins for one email (or
 * from one IP) within the window, further attempts are refused with
 * RESOURCE_EXHAUSTED and RetryInfo, before any password is checked. Unknown
 * and known emails are counted alike, so the throttle reveals nothing about
 * which accounts exist. A successful sign-in clears the account's count.
 *
 * Counters live in this instance's memory: with several instances each
 * counts on its own (a shared store is the upgrade path; see the README).
 */
export class LoginThrottle {
  private readonly byAccount: RateLimiterMemory;
  private readonly byIp: RateLimiterMemory;

  constructor(private readonly settings: LoginThrottleSettings) {
    this.byAccount = new RateLimiterMemory({
      keyPrefix: 'acct',
      points: settings.failuresPerAccount,
      duration: settings.windowSeconds,
    });
    this.byIp = new RateLimiterMemory({ keyPrefix: 'ip', points: settings.failuresPerIp, duration: settings.windowSeconds });
  }

  /** Throws RESOURCE_EXHAUSTED (reason TOO_MANY_ATTEMPTS) while the account or the IP has no attempts left. */
  async assertAllowed(email: string, ip: string | null): Promise<void> {
    const [account, client] = await Promise.all([this.byAccount.get(email), ip ? this.byIp.get(ip) : null]);
    const blocked = [exhausted(account, this.settings.failuresPerAccount), exhausted(client, this.settings.failuresPerIp)].filter(
      (ms): ms is number => ms !== undefined,
    );
    if (blocked.length > 0) {
      throw new DomainError('resource_exhausted', 'THROTTLE-001', 'too many failed sign-in attempts; try again later', {
        reason: 'TOO_MANY_ATTEMPTS',
        retryAfterMs: Math.max(...blocked),
      });
    }
  }

  async recordFailure(email: string, ip: string | null): Promise<void> {
    await Promise.all([spend(this.byAccount, email), ip ? spend(this.byIp, ip) : undefined]);
  }

  async recordSuccess(email: string): Promise<void> {
    await this.byAccount.delete(email);
  }
}

/** Milliseconds until the key has attempts again, or undefined while it has some. */
function exhausted(res: RateLimiterRes | null, points: number): number | undefined {
  return res && res.consumedPoints >= points ? Math.max(res.msBeforeNext, 1) : undefined;
}

async function spend(limiter: RateLimiterMemory, key: string): Promise<void> {
  // consume() rejects once the points are gone; the key is blocked then, which is what we want.
  await limiter.consume(key).catch(() => undefined);
}
