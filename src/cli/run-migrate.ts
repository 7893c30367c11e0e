import { migrateToLatest } from '../db/index.js';
import type { CliContext } from './cli-context.js';
import { buildSealedDomain, loadCliConfig, withDatabase } from './command-runtime.js';
import { ExitCode } from './exit-codes.js';

/**
 * Applies pending migrations (`tessera migrate`); with `postDeploy`, also the
 * post-deploy ones, after sealing any address still in clear (the drop of the
 * clear columns refuses while one remains).
 */
export async function runMigrate(context: CliContext, { postDeploy = false } = {}): Promise<ExitCode> {
  const config = loadCliConfig(context);
  return withDatabase(config, context, async (orm, applied, keyStore) => {
    if (postDeploy) {
      await buildSealedDomain(config, orm, keyStore);
      applied = [...applied, ...(await migrateToLatest(orm, { postDeploy }))];
    }
    context.log.info({ migrations: applied }, applied.length ? 'migrations applied' : 'database already up to date');
    return ExitCode.ok;
  });
}
