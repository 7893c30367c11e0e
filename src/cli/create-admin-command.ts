import type { Command } from 'commander';
import type { Orm } from '../db/index.js';
import { createAdmin } from '../domain/accounts.js';
import { systemContext } from '../domain/context.js';
import type { DomainDeps } from '../domain/deps.js';
import type { CliContext, RunCommand } from './cli-context.js';
import { loadCliConfig, withDomain } from './command-runtime.js';
import { ExitCode } from './exit-codes.js';
import { ADMIN_PASSWORD_ENV, readAdminPassword } from './read-password.js';

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
    .action((options: { email: string }) => run(() => createAdminFromCli(context, options.email)));
}

async function createAdminFromCli(context: CliContext, email: string): Promise<ExitCode> {
  const config = loadCliConfig(context);
  const password = await readAdminPassword(context.io);
  return withDomain(config, context, async (deps, orm) => {
    const user = await createAdministrator(deps, orm, { email, password });
    context.log.info({ userId: user.id, email: user.email }, 'administrator created');
    return ExitCode.ok;
  });
}

/** The domain call, kept alone so it follows the domain's signature in one line. */
function createAdministrator(deps: DomainDeps, orm: Orm, input: { email: string; password: string }) {
  return createAdmin(deps, orm.em.fork(), systemContext('cli'), input);
}
