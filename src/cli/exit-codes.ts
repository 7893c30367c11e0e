/**
 * The exit codes of `tessera`, documented in `tessera --help` and the README.
 * Scripts and orchestrators branch on them, so they never change meaning.
 */
export const ExitCode = {
  /** The command did what it was asked. */
  ok: 0,
  /** The command ran and failed: a refused input, failed import lines, an unexpected error. */
  failure: 1,
  /** The command line or the configuration (environment) is wrong: nothing was attempted. */
  usage: 2,
  /** The database could not be reached: worth retrying once it is up. */
  databaseUnreachable: 3,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The exit codes as shown at the end of `tessera --help`. */
export const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  the command failed (refused input, failed import lines, unexpected error)
  2  usage error: bad arguments or invalid configuration (environment)
  3  the database could not be reached`;

/** A failure whose message is meant for the person at the terminal, ending the command with `code`. */
export class CliError extends Error {
  constructor(
    readonly code: ExitCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}
