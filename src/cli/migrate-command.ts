import type { Command } from 'commander';
import type { CliContext, RunCommand } from './cli-context.js';

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
    .action(() => run(async () => (await import('./run-migrate.js')).runMigrate(context)));
}
