import type { Command } from 'commander';
import type { CliContext, RunCommand } from './cli-context.js';

/** `tessera create-service-account --name N [--role R]`: prints the new API key once, alone on its stdout line. */
export function addCreateServiceAccountCommand(program: Command, run: RunCommand, context: CliContext) {
  program
    .command('create-service-account')
    .description('create a service account for a backend and print its API key (shown only this once)')
    .requiredOption('--name <name>', 'a unique name: lower-case letters, digits, ".", "_" or "-"')
    .option('--role <role>', 'what the account may do: service, auditor or admin', 'service')
    .option(
      '--certificate-identity <uri>',
      'bind a client certificate identity (a URI SAN such as spiffe://example.org/billing): with mTLS, calls presenting it act as this account',
    )
    .addHelpText(
      'after',
      `
The API key (tsk_...) is printed alone on one line of stdout, beside the JSON
log lines; only its hash is stored. Callers send it as "authorization: Bearer <key>".

Examples:
  tessera create-service-account --name billing-backend
  tessera create-service-account --name siem-export --role auditor | grep '^tsk_' > siem.key
  tessera create-service-account --name billing --certificate-identity spiffe://example.org/billing`,
    )
    .action((options: { name: string; role: string; certificateIdentity?: string }) =>
      run(async () => (await import('./run-create-service-account.js')).runCreateServiceAccount(context, options)),
    );
}
