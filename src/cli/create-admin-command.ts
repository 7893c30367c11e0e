import type { Command } from 'commander';
import type { CliContext, RunCommand } from './cli-context.js';
import { ADMIN_PASSWORD_ENV } from './read-password.js';

/** `tessera create-admin --email E`: creates a verified administrator; the password never comes from argv. */
export function addCreateAdminCommand(program: Command, run: RunCommand, context: CliContext) {
  program
    .command('create-admin')
    .description('create a verified administrator (the password is read from a variable or stdin, never from arguments)')
    .requiredOption('--email <address>', "the administrator's email address")
    .addHelpText(
      'after',
      `
The password comes from ${ADMIN_PASSWORD_ENV} when it is set, else from a hidden
prompt on a terminal, else from stdin (one trailing newline is dropped). It must
pass the password policy (at least 8 characters, not a common password).

Examples:
  tessera create-admin --email ops@example.com
  printf '%s\\n' "$PASSWORD" | tessera create-admin --email ops@example.com
  ${ADMIN_PASSWORD_ENV}=... tessera create-admin --email ops@example.com`,
    )
    .action((options: { email: string }) =>
      run(async () => (await import('./run-create-admin.js')).runCreateAdmin(context, options.email)),
    );
}
