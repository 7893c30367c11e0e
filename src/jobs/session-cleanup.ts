import { clearExpiredSuccessors, pruneEndedRefreshHistory, type Orm } from '../db/index.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { periodicTask, type PeriodicTask } from './periodic-task.js';

/** Often enough that a kept successor outlives its grace window by at most a minute. */
const RUN_EVERY_MS = 60 * 1000;

/** Started by the server every minute; tests call runOnce. */
export interface SessionCleanup extends PeriodicTask {
  /** Clears what is due now; returns how many successors and history rows went. */
  runOnce(): Promise<{ successorsCleared: number; historyPruned: number }>;
}

/**
 * Keeps session secrets no longer than they serve: the refresh token kept
 * encrypted for the grace window is cleared once the window ended (a session
 * that is never refreshed again would otherwise keep it for its lifetime), and
 * the rotated-out token hashes of ended sessions are deleted. Idempotent, so
 * every instance may run it.
 */
export function createSessionCleanup(orm: Orm, clock: Clock, graceSeconds: number, log: Logger): SessionCleanup {
  const runOnce = async () => {
    const now = clock.now();
    const em = orm.em.fork();
    const successorsCleared = await clearExpiredSuccessors(em, new Date(now.getTime() - graceSeconds * 1000));
    const historyPruned = await pruneEndedRefreshHistory(em, now);
    if (successorsCleared + historyPruned > 0) log.debug({ successorsCleared, historyPruned }, 'session cleanup');
    return { successorsCleared, historyPruned };
  };
  const schedule = periodicTask(runOnce, RUN_EVERY_MS, (err) => log.error({ err }, 'session cleanup failed'));
  return { runOnce, start: schedule.start, stop: schedule.stop };
}
