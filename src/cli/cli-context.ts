import type { Logger } from '../logger.js';
import type { ExitCode } from './exit-codes.js';

/** What a command may touch of its process, passed in so commands read no process globals (and tests can swap them). */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

/** Everything a command gets: its process's streams and environment, and the run's logger (JSON lines on stdout). */
export interface CliContext {
  io: CliIo;
  log: Logger;
}

/** Runs a command's work, recording its exit code and reporting a failure; the program hands it to every command. */
export type RunCommand = (work: () => Promise<ExitCode>) => Promise<void>;
