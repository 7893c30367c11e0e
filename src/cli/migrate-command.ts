import type { Command } from 'commander';
import type { CliContext, RunCommand } from './cli-context.js';

/** `tessera migrate`: applies pending migrations and exits. */
export function addMigrateCommand(program: Command, run: RunCommand, context: CliContext) {
  program
    .command('migrate')
    .description('apply pending database migrations and exit')
    .option('--post-deploy', 'also apply the post-deploy migrations (they drop what older versions read)')
    .addHelpText(
      'after',
      `
Safe to run on every deploy: migrations run in one transaction, and a second run
finds nothing to do. \`tessera start\` also migrates; run this first when several
instances start at once.

Post-deploy migrations remove columns an older version still reads. Run
\`tessera migrate --post-deploy\` once every instance runs this version (none
of an older one can start again); a fresh database gets them at once.

Examples:
  DATABASE_URL=postgres://tessera@db:5432/tessera tessera migrate
  DATABASE_URL=postgres://tessera@db:5432/tessera tessera migrate --post-deploy`,
    )
    .action((options: { postDeploy?: boolean }) =>
      run(async () => (await import('./run-migrate.js')).runMigrate(context, { postDeploy: options.postDeploy === true })),
    );
}
