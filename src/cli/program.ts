import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { startupLogLevel } from '../config.js';
import { DomainError } from '../domain/kernel/errors.js';
import { createLogger, serializeError, stdoutDestination } from '../logger.js';
import type { CliContext, CliIo } from './cli-context.js';
import { addCreateAdminCommand } from './create-admin-command.js';
import { addCreateServiceAccountCommand } from './create-service-account-command.js';
import { CliError, EXIT_CODES_HELP, ExitCode } from './exit-codes.js';
import { addImportUsersCommand } from './import-users-command.js';
import { addMigrateCommand } from './migrate-command.js';
import { addRetentionCommand } from './retention-command.js';
import { addRotateMasterKeyCommand } from './rotate-master-key-command.js';
import { addRotateSigningKeyCommand } from './rotate-signing-key-command.js';
import { addStartCommand } from './start-command.js';

/** The package version: package.json sits two folders up from both src/cli and dist/cli. */
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * Parses `argv` (without node and the script) and runs the command it names;
 * resolves to the process's exit code (see {@link ExitCode}). Each command's
 * work (run-*.ts) is imported only when it runs, so `--help` and usage errors
 * answer without loading the ORM and gRPC.
 */
export async function runCli(argv: string[], io: CliIo): Promise<ExitCode> {
  // The server logs asynchronously (a blocking write per call cost more CPU than the call); see logger.ts.
  const destination = stdoutDestination({ sync: argv[0] !== 'start' });
  const context: CliContext = { io, log: createLogger(startupLogLevel(io.env), destination) };
  let exitCode: ExitCode = ExitCode.ok;
  const run = async (work: () => Promise<ExitCode>) => {
    try {
      exitCode = await work();
    } catch (err) {
      exitCode = reportFailure(err, context);
    }
  };
  const program = new Command('tessera')
    .description('Tessera, a gRPC identity service: run it, and administer its database.')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .addHelpCommand(false)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'afterAll',
      `${EXIT_CODES_HELP}

Configuration comes from the environment (DATABASE_URL, TESSERA_PEPPER,
TESSERA_MASTER_KEY, ...: see the README); logs are JSON lines on stdout.`,
    );
  addStartCommand(program, run, context);
  addMigrateCommand(program, run, context);
  addCreateAdminCommand(program, run, context);
  addCreateServiceAccountCommand(program, run, context);
  addRotateSigningKeyCommand(program, run, context);
  addRotateMasterKeyCommand(program, run, context);
  addImportUsersCommand(program, run, context);
  addRetentionCommand(program, run, context);

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    // Commander already printed its message (or the help, or the version).
    if (err instanceof CommanderError) return err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    throw err;
  }
  return exitCode;
}

/** Says on stderr why a command failed, without secrets or internals, and picks the exit code. */
function reportFailure(err: unknown, { io, log }: CliContext): ExitCode {
  if (err instanceof CliError) {
    io.stderr.write(`tessera: ${err.message}\n`);
    return err.code;
  }
  if (err instanceof DomainError) {
    const detail = err.violations.map((v) => `${v.field} ${v.description}`).join('; ');
    io.stderr.write(`tessera: ${err.message}${detail ? ` (${detail})` : ''}\n`);
    return ExitCode.failure;
  }
  // The log line keeps the (scrubbed) stack; the terminal gets the message's first line.
  log.error({ err }, 'command failed');
  const { message } = (serializeError(err) as { message?: string }) ?? {};
  io.stderr.write(`tessera: ${(message ?? String(err)).split('\n')[0]}\n`);
  return ExitCode.failure;
}
