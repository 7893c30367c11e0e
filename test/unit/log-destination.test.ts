import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const LOGGER = fileURLToPath(new URL('../../src/logger.ts', import.meta.url));

/** Runs `body` in a fresh Node process with `createLogger` and `stdoutDestination` in scope; resolves with its stdout lines. */
function runWithLogger(body: string): Promise<string[]> {
  const script = `import { createLogger, stdoutDestination } from ${JSON.stringify(LOGGER)};\n${body}`;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { timeout: 30_000 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout.split('\n').filter(Boolean)),
    );
  });
}

describe("The server's asynchronous log destination", () => {
  it('writes every line buffered when the process exits at once (process.exit)', async () => {
    const lines = await runWithLogger(`
      const log = createLogger('info', stdoutDestination({ sync: false }));
      for (let i = 0; i < 5000; i++) log.info({ i }, 'line');
      process.exit(0);
    `);
    expect(lines).to.have.length(5000);
    expect(lines.map((l) => (JSON.parse(l) as { i: number }).i)).to.deep.equal([...Array(5000).keys()]);
  });

  it('writes a lone line without waiting for a batch to fill, while the process keeps running', async () => {
    const lines = await runWithLogger(`
      const log = createLogger('info', stdoutDestination({ sync: false }));
      log.info('alone');
      // Stays alive well past the batch delay, then exits without process.exit's flush.
      const kept = setInterval(() => {}, 1000);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      process.stdout.write(JSON.stringify({ seenBeforeExit: true }) + '\\n');
      clearInterval(kept);
    `);
    expect(lines.map((l) => (JSON.parse(l) as { msg?: string }).msg ?? 'marker')).to.deep.equal(['alone', 'marker']);
  });

  it('keeps secrets censored', async () => {
    const [line] = await runWithLogger(`
      createLogger('info', stdoutDestination({ sync: false })).info({ password: 'p4ss' }, 'oops');
    `);
    expect(line).to.contain('[redacted]').and.not.contain('p4ss');
  });
});
