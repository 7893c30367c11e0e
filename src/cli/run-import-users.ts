import type { Orm } from '../db/index.js';
import { systemContext } from '../domain/context.js';
import type { DomainDeps } from '../domain/deps.js';
import { importUsers, type ImportLine } from '../domain/user-import.js';
import type { CliContext } from './cli-context.js';
import { loadCliConfig, withDomain } from './command-runtime.js';
import { ExitCode } from './exit-codes.js';
import { importUsersFromFile } from './import-users.js';

/** Imports a JSONL file of users; exit 1 when any line failed (`tessera import-users`). */
export async function runImportUsers(context: CliContext, file: string): Promise<ExitCode> {
  const config = loadCliConfig(context);
  return withDomain(config, context, async (deps, orm) => {
    const outcome = await importUsersFromFile(file, (lines) => importBatch(deps, orm, lines), context.io);
    context.log.info(
      { imported: outcome.imported, skipped: outcome.skipped, failed: outcome.problems.length },
      'import finished',
    );
    return outcome.problems.length > 0 ? ExitCode.failure : ExitCode.ok;
  });
}

/** The domain call, kept alone so it follows the domain's signature in one line. */
function importBatch(deps: DomainDeps, orm: Orm, lines: ImportLine[]) {
  return importUsers(deps, orm.em.fork(), systemContext('cli'), lines);
}
