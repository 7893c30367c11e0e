import { deleteAuditEventsBefore, type Orm } from '../db/index.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { periodicTask } from './periodic-task.js';

const RUN_EVERY_MS = 60 * 60 * 1000;
const BATCH = 10_000;

export interface AuditRetention {
  /** Deletes what is past retention now; returns how many events went. */
  runOnce(): Promise<number>;
  /** Runs now and then hourly (no-op when retention is 0). */
  start(): void;
  stop(): void;
}

/**
 * Deletes audit events older than the retention period (0 = keep forever),
 * in batches so no single statement holds locks for long.
 */
export function createAuditRetention(orm: Orm, clock: Clock, retentionDays: number, log: Logger): AuditRetention {
  const runOnce = async () => {
    if (retentionDays <= 0) return 0;
    const cutoff = new Date(clock.now().getTime() - retentionDays * 24 * 3600 * 1000);
    let total = 0;
    for (;;) {
      const deleted = await deleteAuditEventsBefore(orm.em.fork(), cutoff, BATCH);
      total += deleted;
      if (deleted < BATCH) break;
    }
    if (total > 0) log.info({ deleted: total, cutoff }, 'audit retention: old events deleted');
    return total;
  };
  const schedule = periodicTask(runOnce, RUN_EVERY_MS, (err) => log.error({ err }, 'audit retention failed'));
  return {
    runOnce,
    start() {
      if (retentionDays > 0) schedule.start();
    },
    stop: schedule.stop,
  };
}
