import cluster from 'node:cluster';
import { startTessera } from '../server.js';
import type { CliContext } from './cli-context.js';
import { loadCliConfig, unreachableOr } from './command-runtime.js';
import { ExitCode } from './exit-codes.js';
import { runWorkerCluster } from './worker-cluster.js';

const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * Runs the service until SIGTERM or SIGINT, then drains it (`tessera start`); SIGHUP reloads the TLS files.
 * With TESSERA_WORKERS > 1 this process supervises that many workers, each of which runs this same command.
 */
export async function runStart(context: CliContext): Promise<ExitCode> {
  const config = loadCliConfig(context);
  if (config.workers > 1 && cluster.isPrimary) return runWorkerCluster(context, config);
  // Every line of a worker names it, so calls can be traced to the process that served them.
  const log = cluster.isWorker ? context.log.child({ worker: process.pid }) : context.log;
  // Listening before start-up, so a signal during start-up stops the server once it is up
  // (as PID 1 an unhandled SIGTERM would be ignored, not fatal).
  const stopRequested = new Promise<string>((resolve) => {
    for (const signal of STOP_SIGNALS) process.once(signal, () => resolve(signal));
  });
  const tessera = await startTessera(config, { log, processMetrics: true }).catch((err: unknown) => {
    throw unreachableOr(err, config.databaseUrl);
  });
  // SIGHUP re-reads the TLS files (they are also watched); live connections stay.
  const reloadCertificates = () => {
    try {
      if (!tessera.reloadCertificates()) log.info('SIGHUP: TLS files unchanged (or TLS off)');
    } catch (err) {
      log.error({ err }, 'SIGHUP: TLS files could not be loaded; the previous certificate stays');
    }
  };
  process.on('SIGHUP', reloadCertificates);
  const signal = await stopRequested;
  process.off('SIGHUP', reloadCertificates);
  log.info({ signal }, 'shutting down: draining in-flight calls');
  await tessera.shutdown();
  return ExitCode.ok;
}
