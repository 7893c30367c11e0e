import type { Orm } from '../db/index.js';
import { systemContext } from '../domain/context.js';
import type { DomainDeps } from '../domain/deps.js';
import { createServiceAccount } from '../domain/service-accounts.js';
import type { CliContext } from './cli-context.js';
import { loadCliConfig, withDomain } from './command-runtime.js';
import { ExitCode } from './exit-codes.js';

/** Creates a service account and prints its API key (`tessera create-service-account`). */
export async function runCreateServiceAccount(context: CliContext, input: { name: string; role: string }): Promise<ExitCode> {
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
