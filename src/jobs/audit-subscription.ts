import type { AuditEvent } from '../db/index.js';
import { matchesAuditFilter, type AuditFilter } from '../domain/compliance/audit-filter.js';
import { DomainError } from '../domain/kernel/errors.js';

/** Rows read per query while a subscriber catches up from the table. */
export const CATCH_UP_PAGE = 500;

const order = (id: string) => BigInt(id);

/** What a subscription needs from the hub that feeds it. */
export interface SubscriptionSource {
  /** Every event up to this id has been read by the hub (and offered); all ids up to it are final. */
  position(): string;
  /** Matching events in (afterId, upToId], at most CATCH_UP_PAGE of them. */
  readPage(filter: AuditFilter, afterId: string, upToId: string): Promise<AuditEvent[]>;
  /** When an event was read from the table (performance.now()). */
  readAt(event: AuditEvent): number;
  maxBuffered(): number;
  noteQueued(length: number, overflowed: boolean): void;
  remove(subscription: AuditSubscription): void;
}

/**
 * One stream's view of the trail: an async iterator of events in id order.
 * Memory is bounded: at most `maxBuffered` queued events, plus one page
 * while catching up.
 */
export class AuditSubscription implements AsyncIterable<AuditEvent> {
  private mode: 'catching_up' | 'live';
  /** Every event with id <= scanned was delivered, filtered out, or is in the queue. */
  private scanned: string;
  /** The id of the last event handed to the consumer. */
  private delivered: string;
  private queue: AuditEvent[] = [];
  private wakeConsumer: (() => void) | undefined;
  private closedWith: DomainError | 'done' | undefined;

  constructor(
    private readonly hub: SubscriptionSource,
    private readonly filter: AuditFilter,
    start: string,
    replay: boolean,
  ) {
    this.scanned = start;
    this.delivered = start;
    this.mode = replay ? 'catching_up' : 'live';
  }

  /** Called by the hub, synchronously, with new events in id order. */
  offer(batch: AuditEvent[]): void {
    if (this.closedWith || this.mode !== 'live') return;
    for (const event of batch) {
      if (order(event.id) <= order(this.scanned)) continue;
      if (matchesAuditFilter(event, this.filter)) {
        if (this.queue.length >= this.hub.maxBuffered()) {
          // Too slow to keep up live: drop the queue and re-read from the table later.
          this.queue = [];
          this.scanned = this.delivered;
          this.mode = 'catching_up';
          this.hub.noteQueued(0, true);
          break;
        }
        this.queue.push(event);
        this.hub.noteQueued(this.queue.length, false);
      }
      this.scanned = event.id;
    }
    this.notify();
  }

  /** When `event` was read from the table (performance.now()); it had committed by then. */
  readAt(event: AuditEvent): number {
    return this.hub.readAt(event);
  }

  /** Ends the subscription; the iterator then throws `reason` (or just ends). */
  close(reason: DomainError | 'done' = 'done'): void {
    if (this.closedWith) return;
    this.closedWith = reason;
    this.queue = [];
    this.hub.remove(this);
    this.notify();
  }

  private notify(): void {
    const wake = this.wakeConsumer;
    this.wakeConsumer = undefined;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<AuditEvent> {
    try {
      while (!this.closedWith) {
        const next = this.queue.shift();
        if (next) {
          this.delivered = next.id;
          yield next;
          continue;
        }
        if (this.mode === 'catching_up') {
          yield* this.catchUp();
          continue;
        }
        await new Promise<void>((resolve) => (this.wakeConsumer = resolve));
      }
      if (this.closedWith instanceof DomainError) throw this.closedWith;
    } finally {
      this.close();
    }
  }

  /** Reads from the table up to the hub's position, then switches to live in the same tick. */
  private async *catchUp(): AsyncGenerator<AuditEvent> {
    const target = this.hub.position();
    if (order(target) <= order(this.scanned)) {
      this.mode = 'live';
      return;
    }
    const rows = await this.hub.readPage(this.filter, this.scanned, target);
    for (const row of rows) {
      if (this.closedWith) return;
      this.delivered = row.id;
      yield row;
    }
    this.scanned = rows.length === CATCH_UP_PAGE ? rows[rows.length - 1].id : target;
  }
}
