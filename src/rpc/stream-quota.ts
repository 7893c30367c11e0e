import type { Principal } from '../domain/kernel/principal.js';
import { DomainError } from '../domain/kernel/errors.js';

/** Who a quota counts: a user across all their sessions, a service account across all its keys. */
function quotaKey(principal: Principal): string {
  switch (principal.kind) {
    case 'user':
      return `user:${principal.userId}`;
    case 'service_account':
      return `service_account:${principal.serviceAccountId}`;
    default:
      return principal.kind;
  }
}

/**
 * Caps the live streams of one principal, so that one caller (a runaway
 * consumer, a leaked token) cannot hold the memory and fan-out work of the
 * whole instance. Per instance: each instance counts its own streams.
 */
export class StreamQuota {
  private readonly live = new Map<string, number>();

  constructor(private readonly perPrincipal: number) {}

  /**
   * Takes a slot, or throws RESOURCE_EXHAUSTED (reason TOO_MANY_STREAMS).
   * Returns the release, which is safe to call more than once.
   */
  acquire(principal: Principal): () => void {
    const key = quotaKey(principal);
    const count = this.live.get(key) ?? 0;
    if (count >= this.perPrincipal) {
      throw new DomainError(
        'resource_exhausted',
        'STREAM-010',
        `at most ${this.perPrincipal} live audit streams per caller; close one first`,
        { reason: 'TOO_MANY_STREAMS', retryAfterMs: 5000 },
      );
    }
    this.live.set(key, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.live.get(key) ?? 1) - 1;
      if (left === 0) this.live.delete(key);
      else this.live.set(key, left);
    };
  }
}
