import { withJobLock, type Orm } from '../db/index.js';
import { eraseExpiredDeletedUsers } from '../domain/compliance/user-erasure.js';
import { systemOperation, type DomainDeps } from '../domain/kernel/operation.js';
import type { Logger } from '../logger.js';

const RUN_EVERY_MS = 60 * 60 * 1000;
const BATCH = 100;
/** Arbitrary constant naming the advisory lock: one instance runs the job at a time. */
const JOB_LOCK = 0x7e55e7b;

/** Erases soft-deleted accounts past USER_DELETE_RETENTION_DAYS, hourly. */
export interface DeletedUserErasure {
  /** Erases what is past the window now; returns how many accounts went (0 when another instance is running it). */
  runOnce(): Promise<number>;
  start(): void;
  stop(): void;
}

/**
 * Soft-deleted accounts are restorable for USER_DELETE_RETENTION_DAYS, then
 * erased like EraseUser does (key destroyed, rows deleted, `user.erased`
 * and a receipt), by one instance at a time.
 */
export function createDeletedUserErasure(orm: Orm, deps: DomainDeps, log: Logger): DeletedUserErasure {
  let timer: NodeJS.Timeout | undefined;
  const runOnce = async () => {
    const erased = await withJobLock(orm.em.fork(), JOB_LOCK, async () => {
      let total = 0;
      for (;;) {
        const n = await eraseExpiredDeletedUsers(systemOperation(deps, orm.em.fork(), 'retention'), BATCH);
        total += n;
        if (n < BATCH) return total;
      }
    });
    if (erased) log.info({ erased }, 'retention: soft-deleted accounts past their window erased');
    return erased ?? 0;
  };
  const run = () => void runOnce().catch((err: unknown) => log.error({ err }, 'erasure of deleted accounts failed'));
  return {
    runOnce,
    start() {
      if (timer) return;
      run();
      timer = setInterval(run, RUN_EVERY_MS);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
