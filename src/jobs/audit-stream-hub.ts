import {
  AuditHorizon,
  probeAuditTrail,
  readAuditEvents,
  type AuditEvent,
  type AuditEventQuery,
  type EntityManager,
} from '../db/index.js';
import { filterQuery, type AuditFilter } from '../domain/compliance/audit-filter.js';
import { DomainError } from '../domain/kernel/errors.js';
import { AuditSubscription, CATCH_UP_PAGE, type SubscriptionSource } from './audit-subscription.js';

export { AuditSubscription } from './audit-subscription.js';

/** Rows the hub reads per query when woken. */
const FAN_OUT_PAGE = 1000;
/**
 * While committed events wait above the horizon, the hub probes again this
 * often: the transaction holding them back may end without a notification
 * (a rollback, or a transaction that wrote no audit event).
 */
const HELD_BACK_RECHECK_MS = 10;

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
 * Audited transactions commit in any order, so the hub reads only up to the
 * horizon of db/audit-horizon.ts: every id up to it is final (committed or
 * never will be). Once the hub has read up to N, nothing below N can appear,
 * and reading "after the last id" never skips a late committer. Events above
 * the horizon are picked up by a later probe: the next NOTIFY, or a recheck
 * every HELD_BACK_RECHECK_MS while anything is held back.
 *
 * The hub reads each new event once (woken by NOTIFY, or by a poll as a
 * safety net) and offers it to every live subscriber. A subscriber behind
 * the hub, or one whose bounded queue overflowed, reads from the table on its
 * own until it reaches the hub again.
 */
export class AuditStreamHub implements SubscriptionSource {
  /** Every event with an id up to this one has been read by the hub (and offered); never above the horizon. */
  private lastSeenId = '0';
  private readonly horizon = new AuditHorizon();
  private recheckTimer: NodeJS.Timeout | undefined;
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

  /** Probes the end of the trail; returns the horizon after this probe. */
  private async probe(): Promise<string | undefined> {
    return this.horizon.advance(await probeAuditTrail(this.newEntityManager()));
  }

  /** Starts at the current horizon (once the writes in flight have ended) and polls as a safety net. */
  async start(): Promise<void> {
    let safe = await this.probe();
    while (safe === undefined) {
      await new Promise((resolve) => setTimeout(resolve, HELD_BACK_RECHECK_MS));
      safe = await this.probe();
    }
    this.lastSeenId = safe;
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
        } else if (this.horizon.holdingBack) {
          this.recheckSoon();
        }
      });
  }

  /** Wakes again shortly: what is held back is released by a probe, not by a notification. */
  private recheckSoon(): void {
    if (this.recheckTimer || this.closed) return;
    this.recheckTimer = setTimeout(() => {
      this.recheckTimer = undefined;
      this.wake();
    }, HELD_BACK_RECHECK_MS);
    this.recheckTimer.unref();
  }

  private async fetchNew(): Promise<void> {
    await this.probe();
    // Usually the writes in flight at the first probe have ended by now: release their events at once.
    if (this.horizon.holdingBack) await this.probe();
    const safe = this.horizon.safe ?? this.lastSeenId;
    if (this.subscribers.size === 0) {
      // Nobody listens: only keep the position, the table is the record.
      this.lastSeenId = safe;
      return;
    }
    for (;;) {
      const rows = stampRead(await this.read({ afterId: this.lastSeenId, upToId: safe, order: 'asc', limit: FAN_OUT_PAGE }));
      const full = rows.length === FAN_OUT_PAGE;
      // Advance and offer in one synchronous step, so a subscriber switching to live never misses a batch.
      this.lastSeenId = full ? rows[rows.length - 1].id : safe;
      if (rows.length > 0) for (const subscriber of this.subscribers) subscriber.offer(rows);
      if (!full) return;
    }
  }

  /**
   * Opens a subscription. With `afterId` it replays every matching event
   * after that id; without, it starts at the live edge: after the newest
   * event committed so far (events still in flight below it belong to the
   * past of this stream, as before the subscription). The edge comes from a
   * probe taken now: the hub's last one can predate commits whose
   * notification it has not handled yet, and those are the stream's past.
   */
  async subscribe(filter: AuditFilter, afterId: string | undefined): Promise<AuditSubscription> {
    const refuseIfClosed = () => {
      if (this.closed)
        throw new DomainError('unavailable', 'STREAM-001', 'the server is shutting down', { reason: 'SHUTTING_DOWN' });
    };
    refuseIfClosed();
    if (afterId === undefined) await this.probe();
    refuseIfClosed();
    const edge = order(this.horizon.edge) > order(this.lastSeenId) ? this.horizon.edge : this.lastSeenId;
    const subscription = new AuditSubscription(this, filter, afterId ?? edge, afterId !== undefined);
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
  readAt(event: AuditEvent): number {
    return readAt.get(event) ?? Infinity;
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
    if (this.recheckTimer) clearTimeout(this.recheckTimer);
    for (const subscriber of [...this.subscribers]) {
      subscriber.close(
        new DomainError('unavailable', 'STREAM-002', 'the server is shutting down; reconnect with your cursor', {
          reason: 'SHUTTING_DOWN',
        }),
      );
    }
  }
}
