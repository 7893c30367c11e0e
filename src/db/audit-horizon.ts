import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * Audited transactions draw event ids from a sequence and commit in any
 * order, so a reader can see id 12 committed while id 11 is still in flight.
 * The horizon is the largest id below which nothing can appear any more.
 *
 * One probe, in one statement (so one snapshot S), reads:
 * - `topId`: the largest id visible in S;
 * - `xidBound`: an xid assigned to the probe itself, after S was taken, so
 *   larger than the xid of every transaction that began writing before S;
 * - `oldestRunningXid`: `pg_snapshot_xmin(S)`, every xid below it has ended.
 *
 * Every id up to `topId` was drawn before S (sequence values grow with time;
 * the id sequence keeps PostgreSQL's default cache of 1), by a transaction
 * that already held an xid (appendAuditEvents assigns it first), so an xid
 * below `xidBound`. Once a later probe finds `oldestRunningXid >= xidBound`,
 * all those transactions have committed or rolled back: the ids up to `topId`
 * are final and a reader may deliver them. Holding back costs latency only
 * while transactions that began before the probe are still running (any
 * transaction with an xid on the server counts, audited or not).
 */
export interface AuditTrailProbe {
  topId: string;
  xidBound: bigint;
  oldestRunningXid: bigint;
}

/** Looks at the end of the trail; runs outside any transaction (it must commit at once). */
export async function probeAuditTrail(em: EntityManager): Promise<AuditTrailProbe> {
  const [row] = await em.getConnection().execute<{ top: string; bound: string; xmin: string }[]>(
    `select coalesce((select max(id) from audit_events), 0)::text as top,
            pg_current_xact_id()::text as bound,
            pg_snapshot_xmin(pg_current_snapshot())::text as xmin`,
  );
  return { topId: row!.top, xidBound: BigInt(row!.bound), oldestRunningXid: BigInt(row!.xmin) };
}

/** Probes waiting for the transactions that were running when they were taken. */
const MAX_PENDING = 64;

/** Turns successive probes into the delivery horizon (see AuditTrailProbe). */
export class AuditHorizon {
  private safeId: bigint | undefined;
  private topId = 0n;
  private readonly pending: { xidBound: bigint; topId: bigint }[] = [];

  /** Every event id up to this one is final; undefined until a probe has been confirmed by a later one. */
  get safe(): string | undefined {
    return this.safeId?.toString();
  }

  /** The largest committed id any probe has seen: the live edge, possibly above the horizon. */
  get edge(): string {
    return this.topId.toString();
  }

  /** Whether committed events lie above the horizon (a later probe will release them). */
  get holdingBack(): boolean {
    return this.pending.length > 0;
  }

  /** Feeds a probe; returns the horizon after it. */
  advance(probe: AuditTrailProbe): string | undefined {
    while (this.pending.length > 0 && this.pending[0].xidBound <= probe.oldestRunningXid) {
      const confirmed = this.pending.shift()!;
      if (this.safeId === undefined || confirmed.topId > this.safeId) this.safeId = confirmed.topId;
    }
    const top = BigInt(probe.topId);
    if (top > this.topId) this.topId = top;
    const highest = this.pending.at(-1)?.topId ?? this.safeId;
    if (highest === undefined || top > highest) {
      // Replacing the newest entry only waits longer (a larger bound): safe, and memory stays bounded.
      if (this.pending.length >= MAX_PENDING) this.pending.pop();
      this.pending.push({ xidBound: probe.xidBound, topId: top });
    }
    return this.safe;
  }
}
