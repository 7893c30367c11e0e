import { withJobLock, type Orm } from '../db/index.js';
import { runRetention, type RetentionCounts, type RetentionWindows } from '../domain/compliance/retention.js';
import { systemOperation, type DomainDeps } from '../domain/kernel/operation.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { periodicTask, type PeriodicTask } from './periodic-task.js';

/** Arbitrary constant naming the advisory lock: one instance runs retention at a time (the former erasure job's). */
export const RETENTION_JOB_LOCK = 0x7e55e7b;

/** The retention job of one instance; `runOnce` is also what `tessera retention run` calls. */
export interface RetentionJob extends PeriodicTask {
  /** One pass now; null when another instance (or the CLI) holds the lock and is running it. */
  runOnce(): Promise<RetentionCounts | null>;
}

/**
 * Every retention rule in one job: the windows come from the configuration,
 * each run takes a PostgreSQL advisory lock (released with its transaction,
 * or its connection if the process dies), so of several instances one runs
 * and the others skip until their next tick.
 */
export function createRetentionJob(
  orm: Orm,
  deps: DomainDeps,
  settings: RetentionWindows & { intervalMs: number },
  log: Logger,
  metrics: Metrics,
): RetentionJob {
  const runOnce = async (): Promise<RetentionCounts | null> => {
    const started = process.hrtime.bigint();
    let counts: RetentionCounts | null;
    try {
      counts = await withJobLock(orm.em.fork(), RETENTION_JOB_LOCK, () =>
        runRetention(systemOperation(deps, orm.em.fork(), 'retention'), settings),
      );
    } catch (err) {
      metrics.retentionRuns.inc({ outcome: 'failed' });
      throw err;
    }
    if (!counts) {
      metrics.retentionRuns.inc({ outcome: 'skipped' });
      return null;
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    metrics.retentionRuns.inc({ outcome: 'completed' });
    metrics.retentionDuration.observe(seconds);
    metrics.retentionLastRun.set(Date.now() / 1000);
    for (const [kind, n] of Object.entries(counts)) metrics.retentionRemoved.inc({ kind }, n);
    if (Object.values(counts).some((n) => n > 0)) log.info({ ...counts, seconds }, 'retention run removed data');
    return counts;
  };
  const schedule = periodicTask(runOnce, settings.intervalMs, (err) => log.error({ err }, 'retention run failed'));
  return { runOnce, start: schedule.start, stop: schedule.stop };
}
