import type { LimitedCall, LimitedMail, RequestLimiter } from '../domain/kernel/rate-limits.js';
import { clientKeyOf } from './client-key.js';
import type { Counter } from './counter.js';
import type { LimiterStore } from './limiter-store.js';

export interface RequestLimitSettings {
  /** Calls allowed per client (IPv4 address or IPv6 /64) within the window, by call. */
  perClient: Record<LimitedCall, number>;
  windowSeconds: number;
  /** Reset and verification mails per address per hour (each kind counted on its own). */
  mailsPerAddressPerHour: number;
}

const HOUR_SECONDS = 3600;

/**
 * Per-client call counters and per-address mail counters in a limiter store.
 * They guard capacity and inboxes, not secrets: while Redis is unreachable
 * they count in this instance's memory rather than refuse the calls.
 */
export class StoreRequestLimiter implements RequestLimiter {
  private readonly calls: Map<LimitedCall, Counter>;
  private readonly mails: Counter;

  constructor(store: LimiterStore, settings: RequestLimitSettings) {
    this.calls = new Map(
      (Object.entries(settings.perClient) as [LimitedCall, number][]).map(([call, points]) => [
        call,
        store.counter({
          name: `calls-${call}`,
          points,
          durationSeconds: settings.windowSeconds,
          whenUnreachable: 'count-locally',
        }),
      ]),
    );
    this.mails = store.counter({
      name: 'mails',
      points: settings.mailsPerAddressPerHour,
      durationSeconds: HOUR_SECONDS,
      whenUnreachable: 'count-locally',
    });
  }

  async consumeCall(call: LimitedCall, ip: string): Promise<number | undefined> {
    const count = await this.calls.get(call)!.consume(clientKeyOf(ip));
    return 'refused' in count ? count.msBeforeNext : undefined;
  }

  async mayMail(mail: LimitedMail, address: string): Promise<boolean> {
    const count = await this.mails.consume(`${mail}:${address}`);
    return !('refused' in count);
  }
}
