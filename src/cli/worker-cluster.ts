import cluster, { type Worker } from 'node:cluster';
import type { Config } from '../config.js';
import type { CliContext } from './cli-context.js';
import { withDatabase } from './command-runtime.js';
import { ExitCode } from './exit-codes.js';

/** Restarts allowed for workers that die on their own, over the primary's life: a crash loop ends the service. */
const MAX_RESTARTS = 5;

const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * The primary of `tessera start` with TESSERA_WORKERS > 1: starts the embedded
 * PostgreSQL if there is no DATABASE_URL and applies migrations, once; then
 * forks the workers, which each start Tessera (own pool, stream hub, jobs) on
 * the same ports, node:cluster sharing the listening sockets. SIGTERM or
 * SIGINT drains every worker; a worker that dies is restarted (bounded).
 */
export async function runWorkerCluster(context: CliContext, config: Config): Promise<ExitCode> {
  const { log } = context;
  const stopRequested = new Promise<string>((resolve) => {
    for (const signal of STOP_SIGNALS) process.once(signal, () => resolve(signal));
  });
  return withDatabase(config, context, async (orm) => {
    // Workers skip the embedded database and find the migrations done.
    const env = { DATABASE_URL: orm.config.get('clientUrl') };
    const workers = new Set<Worker>();
    let stopping = false;
    let restarts = 0;
    let failed = false;
    let allExited: () => void = () => {};
    const exited = new Promise<void>((resolve) => (allExited = resolve));

    const fork = () => workers.add(cluster.fork(env));
    const stopAll = () => {
      stopping = true;
      for (const worker of workers) worker.process.kill('SIGTERM');
    };
    cluster.on('exit', (worker, code, signal) => {
      workers.delete(worker);
      if (!stopping) {
        log.error({ worker: worker.process.pid, code, signal, restarts }, 'worker died');
        if (restarts < MAX_RESTARTS) {
          restarts++;
          fork();
        } else {
          log.error({ maxRestarts: MAX_RESTARTS }, 'workers keep dying: stopping the service');
          failed = true;
          stopAll();
        }
      } else if (code !== 0) {
        failed = true;
      }
      if (workers.size === 0) allExited();
    });

    for (let i = 0; i < config.workers; i++) fork();
    log.info({ workers: config.workers }, 'workers started');
    const signal = await Promise.race([stopRequested, exited.then(() => undefined)]);
    if (signal) {
      log.info({ signal }, 'shutting down: draining every worker');
      stopAll();
    }
    await exited;
    log.info('tessera stopped');
    return failed ? ExitCode.failure : ExitCode.ok;
  });
}
