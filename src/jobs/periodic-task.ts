/** A task that runs now and then every interval, until stopped. */
export interface PeriodicTask {
  /** Runs now and then every interval; a second start does nothing. */
  start(): void;
  stop(): void;
}

/**
 * Runs `task` on a timer that does not keep the process alive. A failed run
 * is reported to `onError` and the next one tries again.
 */
export function periodicTask(task: () => Promise<unknown>, intervalMs: number, onError: (err: unknown) => void): PeriodicTask {
  let timer: NodeJS.Timeout | undefined;
  const run = () => void task().catch(onError);
  return {
    start() {
      if (timer) return;
      run();
      timer = setInterval(run, intervalMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
