import type { Orm } from '../db/index.js';
import { createAdmin } from '../domain/accounts.js';
import { systemContext } from '../domain/context.js';
import type { DomainDeps } from '../domain/deps.js';
import type { CliContext } from './cli-context.js';
import { loadCliConfig, withDomain } from './command-runtime.js';
import { ExitCode } from './exit-codes.js';
import { readAdminPassword } from './read-password.js';

/** Creates an administrator with the password from the environment or stdin (`tessera create-admin`). */
export async function runCreateAdmin(context: CliContext, email: string): Promise<ExitCode> {
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
