import type { Command } from 'commander';
import type { CliContext, RunCommand } from './cli-context.js';

/** `tessera retention run`: one retention pass now, as the background job does it. */
export function addRetentionCommand(program: Command, run: RunCommand, context: CliContext) {
  const retention = program
    .command('retention')
    .description('data retention: prune and erase what is past its window')
    .helpOption('-h, --help', 'show help for a command')
    .addHelpCommand(false);
  retention
    .command('run')
    .description('run one retention pass now and print what it removed')
    .addHelpText(
      'after',
      `
Does what every instance's retention job does each RETENTION_INTERVAL_SECONDS:
deletes sessions, one-time tokens and sent mail past SESSION_RETENTION_DAYS,
ONE_TIME_TOKEN_RETENTION_DAYS and MAIL_RETENTION_DAYS, erases soft-deleted
accounts past USER_DELETE_RETENTION_DAYS (with a receipt each), blanks the IP,
user agent and personal metadata of audit events older than
AUDIT_PII_RETENTION_DAYS, and deletes events older than AUDIT_RETENTION_DAYS
(when not 0). Prints one "<kind> <count>" line per kind. Safe beside running
instances: when one of them is running retention right now, nothing is done,
"skipped" is printed and the exit code is 0 (that run does the same work).

Examples:
  tessera retention run`,
    )
    .action(() => run(async () => (await import('./run-retention.js')).runRetentionOnce(context)));
}
