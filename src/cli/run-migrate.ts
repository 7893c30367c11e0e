import type { CliContext } from './cli-context.js';
import { loadCliConfig, withDatabase } from './command-runtime.js';
import { ExitCode } from './exit-codes.js';

/** Applies pending migrations (`tessera migrate`). */
export async function runMigrate(context: CliContext): Promise<ExitCode> {
  const config = loadCliConfig(context);
  return withDatabase(config, context, async (_orm, applied) => {
    context.log.info({ migrations: applied }, applied.length ? 'migrations applied' : 'database already up to date');
    return ExitCode.ok;
  });
}
