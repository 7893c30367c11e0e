import { createServiceAccount } from '../domain/identity/service-accounts.js';
import type { CliContext } from './cli-context.js';
import { loadCliConfig, withDomain } from './command-runtime.js';
import { ExitCode } from './exit-codes.js';

/** Creates a service account and prints its API key (`tessera create-service-account`). */
export async function runCreateServiceAccount(
  context: CliContext,
  input: { name: string; role: string; certificateIdentity?: string },
): Promise<ExitCode> {
  const config = loadCliConfig(context);
  return withDomain(config, context, async (newOperation) => {
    const { serviceAccount, apiKey } = await createServiceAccount(newOperation(), input);
    context.log.info(
      {
        serviceAccountId: serviceAccount.id,
        name: serviceAccount.name,
        role: serviceAccount.role,
        apiKeyPrefix: serviceAccount.apiKeyPrefix,
        certificateIdentity: serviceAccount.certificateIdentity ?? undefined,
      },
      'service account created',
    );
    // The only place the key is ever shown: stdout, alone on its line, so scripts can capture it.
    context.io.stdout.write(`${apiKey}\n`);
    return ExitCode.ok;
  });
}
