import { startTessera } from '../server.js';
import type { CliContext } from './cli-context.js';
import { loadCliConfig, unreachableOr } from './command-runtime.js';
import { ExitCode } from './exit-codes.js';

const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/** Runs the service until SIGTERM or SIGINT, then drains it (`tessera start`). */
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
  const signal = await stopRequested;
  log.info({ signal }, 'shutting down: draining in-flight calls');
  await tessera.shutdown();
  return ExitCode.ok;
}
