import type { Command } from 'commander';
import type { CliContext, RunCommand } from './cli-context.js';

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
    .action(() => run(async () => (await import('./run-start.js')).runStart(context)));
}
