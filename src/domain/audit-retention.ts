import { deleteAuditEventsBefore, type Orm } from '../db/index.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';

const RUN_EVERY_MS = 60 * 60 * 1000;
const BATCH = 10_000;

/**
 * Deletes audit events older than the retention period (0 = keep forever),
 * at start and then hourly, in batches so no single statement holds locks long.
 */
export function startAuditRetention(orm: Orm, clock: Clock, retentionDays: number, log: Logger): { stop(): void; runOnce(): Promise<number> } {
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
  if (retentionDays <= 0) return { stop: () => {}, runOnce };
  const run = () => void runOnce().catch((err: unknown) => log.error({ err }, 'audit retention failed'));
  run();
  const timer = setInterval(run, RUN_EVERY_MS);
  timer.unref();
  return { stop: () => clearInterval(timer), runOnce };
}
