import { startTessera } from '../server.js';
import type { CliContext } from './cli-context.js';
import { loadCliConfig, unreachableOr } from './command-runtime.js';
import { ExitCode } from './exit-codes.js';

const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/** Runs the service until SIGTERM or SIGINT, then drains it (`tessera start`); SIGHUP reloads the TLS files. */
export async function runStart(context: CliContext): Promise<ExitCode> {
  const { log } = context;
  const config = loadCliConfig(context);
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
