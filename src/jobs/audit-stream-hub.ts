import { latestAuditEventId, readAuditEvents, type AuditEvent, type AuditEventQuery, type EntityManager } from '../db/index.js';
import { filterQuery, matchesAuditFilter, type AuditFilter } from '../domain/compliance/audit-filter.js';
import { DomainError } from '../domain/kernel/errors.js';

/** Rows read per query while a subscriber catches up from the table. */
const CATCH_UP_PAGE = 500;
/** Rows the hub reads per query when woken. */
const FAN_OUT_PAGE = 1000;

export interface AuditStreamSettings {
  /** Events a live subscriber may have queued before it falls back to catching up from the table. */
  maxBufferedPerSubscriber: number;
  /** Safety-net poll: how often the hub looks for new events without a notification. */
  pollIntervalMs: number;
}

export interface AuditStreamStats {
  subscribers: number;
  /** Times a subscriber's buffer overflowed and it fell back to the table. */
  overflows: number;
  /** The largest number of events any subscriber ever had queued. */
  maxQueued: number;
}

const order = (id: string) => BigInt(id);

/** When each event was read from the table (performance.now()): it had committed by then. */
const readAt = new WeakMap<AuditEvent, number>();

function stampRead(rows: AuditEvent[]): AuditEvent[] {
  const now = performance.now();
  for (const row of rows) readAt.set(row, now);
  return rows;
}

/**
 * Fans audit events out to the streams held on this instance.
 *
 * Correctness rests on one invariant of db/audit-log.ts: event ids become
 * visible in id order (inserts are serialized by an advisory lock held until
 * commit). So once the hub has read id N, every id below N is settled, and
 * reading "after the last id" never skips a late committer.
 *
 * The hub reads each new event once (woken by NOTIFY, or by a poll as a
 * safety net) and offers it to every live subscriber. A subscriber behind
 * the hub, or one whose bounded queue overflowed, reads from the table on its
 * own until it reaches the hub again.
 */
export class AuditStreamHub {
  /** Every event with an id up to this one has been read by the hub (and offered). */
  private lastSeenId = '0';
  private readonly subscribers = new Set<AuditSubscription>();
  private fetching: Promise<void> | undefined;
  private fetchAgain = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly counters = { overflows: 0, maxQueued: 0 };

  constructor(
    private readonly newEntityManager: () => EntityManager,
    private readonly settings: AuditStreamSettings,
    private readonly onError: (err: unknown) => void,
    /** Opens the personal parts of stored events (sealed under their subjects' data keys). */
    private readonly reveal: (em: EntityManager, rows: AuditEvent[]) => Promise<AuditEvent[]>,
  ) {}

  private async read(query: AuditEventQuery): Promise<AuditEvent[]> {
    const em = this.newEntityManager();
    return this.reveal(em, await readAuditEvents(em, query));
  }

  /** Starts at the current end of the trail and polls as a safety net. */
  async start(): Promise<void> {
    this.lastSeenId = await latestAuditEventId(this.newEntityManager());
    this.pollTimer = setInterval(() => this.wake(), this.settings.pollIntervalMs);
    this.pollTimer.unref();
  }

  /** Called on NOTIFY: read what was committed since the last read. Coalesces bursts. */
  wake(): void {
    if (this.closed) return;
    if (this.fetching) {
      this.fetchAgain = true;
      return;
    }
    this.fetching = this.fetchNew()
      .catch((err: unknown) => this.onError(err))
      .finally(() => {
        this.fetching = undefined;
        if (this.fetchAgain) {
          this.fetchAgain = false;
          this.wake();
        }
      });
  }

  private async fetchNew(): Promise<void> {
    for (;;) {
      if (this.subscribers.size === 0) {
        // Nobody listens: only keep the position, the table is the record.
        this.lastSeenId = await latestAuditEventId(this.newEntityManager());
        return;
      }
      const rows = stampRead(
        await this.read({
          afterId: this.lastSeenId,
          order: 'asc',
          limit: FAN_OUT_PAGE,
        }),
      );
      if (rows.length === 0) return;
      // Advance and offer in one synchronous step, so a subscriber switching to live never misses a batch.
      this.lastSeenId = rows[rows.length - 1].id;
      for (const subscriber of this.subscribers) subscriber.offer(rows);
      if (rows.length < FAN_OUT_PAGE) return;
    }
  }

  /**
   * Opens a subscription. With `afterId` it replays every matching event
   * after that id; without, it starts at the live edge.
   */
  subscribe(filter: AuditFilter, afterId: string | undefined): AuditSubscription {
    if (this.closed)
      throw new DomainError('unavailable', 'STREAM-001', 'the server is shutting down', { reason: 'SHUTTING_DOWN' });
    const subscription = new AuditSubscription(this, filter, afterId ?? this.lastSeenId, afterId !== undefined);
    this.subscribers.add(subscription);
    return subscription;
  }

  /** @internal */
  position(): string {
    return this.lastSeenId;
  }

  /** @internal */
  async readPage(filter: AuditFilter, afterId: string, upToId: string): Promise<AuditEvent[]> {
    return stampRead(
      await this.read({
        ...filterQuery(filter),
        afterId,
        upToId,
        order: 'asc',
        limit: CATCH_UP_PAGE,
      }),
    );
  }

  /** @internal */
  maxBuffered(): number {
    return this.settings.maxBufferedPerSubscriber;
  }

  /** @internal */
  noteQueued(length: number, overflowed: boolean): void {
    if (length > this.counters.maxQueued) this.counters.maxQueued = length;
    if (overflowed) this.counters.overflows++;
  }

  /** @internal */
  remove(subscription: AuditSubscription): void {
    this.subscribers.delete(subscription);
  }

  stats(): AuditStreamStats {
    return { subscribers: this.subscribers.size, ...this.counters };
  }

  /** Ends every subscription (they fail with UNAVAILABLE so clients reconnect elsewhere). */
  close(): void {
    this.closed = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    for (const subscriber of [...this.subscribers]) {
      subscriber.close(
        new DomainError('unavailable', 'STREAM-002', 'the server is shutting down; reconnect with your cursor', {
          reason: 'SHUTTING_DOWN',
        }),
      );
    }
  }
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
    private readonly hub: AuditStreamHub,
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
    return readAt.get(event) ?? Infinity;
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
