import { Option, type Command } from 'commander';
import type { Orm } from '../db/index.js';
import { systemContext } from '../domain/context.js';
import type { DomainDeps } from '../domain/deps.js';
import { createServiceAccount, SERVICE_ACCOUNT_ROLES } from '../domain/service-accounts.js';
import type { CliContext, RunCommand } from './cli-context.js';
import { loadCliConfig, withDomain } from './command-runtime.js';
import { ExitCode } from './exit-codes.js';

/** `tessera create-service-account --name N [--role R]`: prints the new API key once, alone on its stdout line. */
export function addCreateServiceAccountCommand(program: Command, run: RunCommand, context: CliContext) {
  program
    .command('create-service-account')
    .description('create a service account for a backend and print its API key (shown only this once)')
    .requiredOption('--name <name>', 'a unique name: lower-case letters, digits, ".", "_" or "-"')
    .addOption(new Option('--role <role>', 'what the account may do').choices(SERVICE_ACCOUNT_ROLES).default('service'))
    .addHelpText(
      'after',
      `
The API key (tsk_...) is printed alone on one line of stdout, beside the JSON
log lines; only its hash is stored. Callers send it as "authorization: Bearer <key>".

Examples:
  tessera create-service-account --name billing-backend
  tessera create-service-account --name siem-export --role auditor | grep '^tsk_' > siem.key`,
    )
    .action((options: { name: string; role: string }) => run(() => createServiceAccountFromCli(context, options)));
}

async function createServiceAccountFromCli(context: CliContext, input: { name: string; role: string }): Promise<ExitCode> {
  const config = loadCliConfig(context);
  return withDomain(config, context, async (deps, orm) => {
    const { serviceAccount, apiKey } = await createAccount(deps, orm, input);
    context.log.info(
      {
        serviceAccountId: serviceAccount.id,
        name: serviceAccount.name,
        role: serviceAccount.role,
        apiKeyPrefix: serviceAccount.apiKeyPrefix,
      },
      'service account created',
    );
    // The only place the key is ever shown: stdout, alone on its line, so scripts can capture it.
    context.io.stdout.write(`${apiKey}\n`);
    return ExitCode.ok;
  });
}

/** The domain call, kept alone so it follows the domain's signature in one line. */
function createAccount(deps: DomainDeps, orm: Orm, input: { name: string; role: string }) {
  return createServiceAccount(deps, orm.em.fork(), systemContext('cli'), input);
}
