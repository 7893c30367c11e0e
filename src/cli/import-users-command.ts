import { InvalidArgumentError, type Command } from 'commander';
import { statSync } from 'node:fs';
import type { CliContext, RunCommand } from './cli-context.js';

/** `tessera import-users FILE.jsonl`: imports accounts with their existing password hashes. */
export function addImportUsersCommand(program: Command, run: RunCommand, context: CliContext) {
  program
    .command('import-users')
    .description('import users with bcrypt, argon2 or PBKDF2 password hashes from a JSONL file (one JSON object a line)')
    .argument('<file>', 'the JSONL file', existingFile)
    .addHelpText(
      'after',
      `
Each line: {"email": "...", "password_hash": "...", "full_name": "...", "email_verified": true}
(full_name and email_verified optional). Hashes: bcrypt ($2a$/$2b$/$2y$), argon2
($argon2id$...), Django pbkdf2_sha256$... and passlib $pbkdf2-sha256$...; each
is replaced by argon2id at the user's first sign-in. Addresses already
registered are skipped. Lines are imported 500 to a transaction; a progress bar
is drawn on a terminal, plain "import: N%" lines otherwise (stderr). Bad lines are
listed by number on stderr and make the exit code 1; the valid ones are kept.

Examples:
  tessera import-users users.jsonl
  tessera import-users users.jsonl 2> import-problems.txt`,
    )
    .action((file: string) => run(async () => (await import('./run-import-users.js')).runImportUsers(context, file)));
}

/** Commander argument parser: the file must exist, or it is a usage error. */
function existingFile(path: string): string {
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch {
    throw new InvalidArgumentError('no such file');
  }
  if (!isFile) throw new InvalidArgumentError('not a file');
  return path;
}
