import type { CliIo } from './cli-context.js';
import { CliError, ExitCode } from './exit-codes.js';

/** The variable `create-admin` takes the password from, for scripts. Never argv: `ps` and shell history show it. */
export const ADMIN_PASSWORD_ENV = 'TESSERA_ADMIN_PASSWORD';

/**
 * The new administrator's password: from TESSERA_ADMIN_PASSWORD when set,
 * else typed at a hidden prompt on a terminal, else all of piped stdin
 * (without its final newline).
 */
export async function readAdminPassword(io: CliIo): Promise<string> {
  const fromEnv = io.env[ADMIN_PASSWORD_ENV];
  if (fromEnv) return fromEnv;
  if (io.stdin.isTTY) return readHiddenLine(io.stdin, io.stderr, 'Password for the new administrator: ');
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** Reads one line from a terminal without echoing it. */
function readHiddenLine(input: NodeJS.ReadStream, output: NodeJS.WritableStream, prompt: string): Promise<string> {
  // Echo off before the prompt shows: typing that follows the prompt must never be echoed.
  input.setRawMode(true);
  output.write(prompt);
  input.setEncoding('utf8');
  input.resume();
  return new Promise((resolve, reject) => {
    let typed: string[] = [];
    const finish = () => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      output.write('\n');
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') {
          finish();
          resolve(typed.join(''));
          return;
        }
        if (char === '\u0003' || char === '\u0004') {
          finish();
          reject(new CliError(ExitCode.failure, 'cancelled'));
          return;
        }
        if (char === '\u007f' || char === '\b') typed = typed.slice(0, -1);
        else typed.push(char);
      }
    };
    input.on('data', onData);
  });
}
