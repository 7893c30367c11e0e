import { importUsers } from '../domain/auth/user-import.js';
import type { CliContext } from './cli-context.js';
import { loadCliConfig, withDomain } from './command-runtime.js';
import { ExitCode } from './exit-codes.js';
import { importUsersFromFile } from './import-users.js';

/** Imports a JSONL file of users; exit 1 when any line failed (`tessera import-users`). */
export async function runImportUsers(context: CliContext, file: string): Promise<ExitCode> {
  const config = loadCliConfig(context);
  return withDomain(config, context, async (newOperation) => {
    const outcome = await importUsersFromFile(file, (lines) => importUsers(newOperation(), lines), context.io);
    context.log.info(
      { imported: outcome.imported, skipped: outcome.skipped, failed: outcome.problems.length },
      'import finished',
    );
    return outcome.problems.length > 0 ? ExitCode.failure : ExitCode.ok;
  });
}
