import type { Command } from 'commander';
import type { CliContext, RunCommand } from './cli-context.js';
import { loadCliConfig, withDatabase } from './command-runtime.js';
import { ExitCode } from './exit-codes.js';

/** `tessera migrate`: applies pending migrations and exits. */
export function addMigrateCommand(program: Command, run: RunCommand, context: CliContext) {
  program
    .command('migrate')
    .description('apply pending database migrations and exit')
    .addHelpText(
      'after',
      `
Safe to run on every deploy: migrations run in one transaction, and a second run
finds nothing to do. \`tessera start\` also migrates; run this first when several
instances start at once.

Examples:
  DATABASE_URL=postgres://tessera@db:5432/tessera tessera migrate`,
    )
    .action(() => run(() => migrate(context)));
}

async function migrate(context: CliContext): Promise<ExitCode> {
  const config = loadCliConfig(context);
  return withDatabase(config, context, async (_orm, applied) => {
    context.log.info({ migrations: applied }, applied.length ? 'migrations applied' : 'database already up to date');
    return ExitCode.ok;
  });
}
