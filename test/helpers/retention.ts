import type { RetentionWindows } from '../../src/domain/compliance/retention.js';
import { createRetentionJob, type RetentionJob } from '../../src/jobs/retention.js';
import { Metrics } from '../../src/metrics.js';
import type { TestServer } from './server.js';

/** Ten years: a window no test reaches by moving its clock. */
const FAR_DAYS = 3650;

/**
 * A retention job on `server`'s ORM and clock, not started: the test runs it
 * once. Every window is ten years (nothing is due) unless `windows` sets it,
 * so a test that moves the shared server's clock touches only what it tests.
 */
export function retentionJobOn(
  server: TestServer,
  windows: Partial<RetentionWindows & { userDeleteDays: number }> = {},
  metrics = new Metrics(),
): RetentionJob {
  const { userDeleteDays = FAR_DAYS, ...rest } = windows;
  return createRetentionJob(
    server.tessera.orm,
    { ...server.tessera.deps, userDeleteRetentionDays: userDeleteDays },
    {
      sessionDays: FAR_DAYS,
      oneTimeTokenDays: FAR_DAYS,
      mailDays: FAR_DAYS,
      auditPiiDays: FAR_DAYS,
      auditDays: 0,
      refreshReuseGraceSeconds: 10,
      intervalMs: 24 * 3600 * 1000,
      ...rest,
    },
    server.tessera.log,
    metrics,
  );
}
