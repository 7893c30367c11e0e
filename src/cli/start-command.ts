import type { Command } from 'commander';
import { startTessera } from '../server.js';
import type { CliContext, RunCommand } from './cli-context.js';
import { loadCliConfig, unreachableOr } from './command-runtime.js';
import { ExitCode } from './exit-codes.js';

const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/** `tessera start`: serves until SIGTERM or SIGINT, then drains in-flight calls and exits 0. */
export function addStartCommand(program: Command, run: RunCommand, context: CliContext) {
  program
    .command('start')
    .description('run the gRPC service and the ops HTTP port')
    .addHelpText(
      'after',
      `
Applies pending migrations, then serves until SIGTERM or SIGINT, drains in-flight
calls (up to SHUTDOWN_GRACE_SECONDS), ends audit streams and exits 0. Without
DATABASE_URL an embedded PostgreSQL runs under TESSERA_DATA_DIR.

In a container, run node directly so the signal reaches Tessera (npm does not
forward it when it is PID 1):
  node dist/main.js start

Examples:
  DATABASE_URL=postgres://tessera@db:5432/tessera tessera start
  GRPC_PORT=50051 HTTP_PORT=8080 node dist/main.js start`,
    )
    .action(() => run(() => serve(context)));
}

async function serve(context: CliContext): Promise<ExitCode> {
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
