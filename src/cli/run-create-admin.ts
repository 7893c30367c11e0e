import { createAdmin } from '../domain/auth/registration.js';
import type { CliContext } from './cli-context.js';
import { loadCliConfig, withDomain } from './command-runtime.js';
import { ExitCode } from './exit-codes.js';
import { readAdminPassword } from './read-password.js';

/** Creates an administrator with the password from the environment or stdin (`tessera create-admin`). */
export async function runCreateAdmin(context: CliContext, email: string): Promise<ExitCode> {
  const config = loadCliConfig(context);
  const password = await readAdminPassword(context.io);
  return withDomain(config, context, async (newOperation) => {
    const user = await createAdmin(newOperation(), { email, password });
    context.log.info({ userId: user.id }, 'administrator created');
    return ExitCode.ok;
  });
}
