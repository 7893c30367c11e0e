import { hash as bcryptHash } from '@node-rs/bcrypt';
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useCliSandbox } from '../helpers/cli-sandbox.js';
import { uniqueEmail } from '../helpers/fixtures.js';
import { PROJECT_ROOT, runTessera, TESSERA_MAIN, waitForExit } from '../helpers/process.js';

/** Terminal control sequences (cursor moves, colours), removed to read what the screen shows. */
const ANSI = /\u001b(?:\[[0-9;?]*[A-Za-z]|[78])/g;

describe('tessera import-users progress', function () {
  this.timeout(60_000);
  const sandbox = useCliSandbox();
  const dir = mkdtempSync(join(tmpdir(), 'tessera-progress-'));
  const file = join(dir, 'users.jsonl');
  after(() => rmSync(dir, { recursive: true, force: true }));

  before(async () => {
    const hash = await bcryptHash('an old passphrase', { cost: 4 });
    const lines = Array.from({ length: 1200 }, (_, i) =>
      JSON.stringify({ email: uniqueEmail(`progress-${i}`), password_hash: i === 7 ? 'not a hash' : hash }),
    );
    writeFileSync(file, `${lines.join('\n')}\n`);
  });

  it('draws a progress bar with the running counts on a terminal', async () => {
    const { env } = await sandbox.fresh();
    // util-linux `script` runs the command on a pseudo-terminal, as a person at a shell would.
    const child = spawn('script', ['-qefc', `${process.execPath} ${TESSERA_MAIN} import-users ${file}`, '/dev/null'], {
      cwd: PROJECT_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const result = await waitForExit(child, 50_000);
    const screen = result.stdout.replace(ANSI, '');
    expect(result.code, screen + result.stderr).to.equal(1);
    expect(screen).to.match(/import \[[█░]{40}\] 0% \| imported 0, skipped 0, failed 0/);
    expect(screen).to.match(/import \[█{40}\] 100% \| imported 1199, skipped 0, failed 1/);
    expect(screen).to.contain('line 8: password_hash is missing or not a supported');
    expect(screen).to.contain('imported 1199, skipped 0 (address already registered), failed 1');
    expect(screen).to.not.match(/^import: \d+%/m);
  });

  it('writes a plain line every 10% when stderr is not a terminal', async () => {
    const { env } = await sandbox.fresh();
    const result = await runTessera(['import-users', file], env, { timeoutMs: 50_000 });
    expect(result.code, result.stderr).to.equal(1);
    const lines = result.stderr.split('\n').filter((l) => l.startsWith('import: '));
    expect(lines[0]).to.match(/^import: [0-4]\d% \(imported 499, skipped 0, failed 1\)$/);
    expect(lines.at(-1)).to.equal('import: 100% (imported 1199, skipped 0, failed 1)');
    expect(result.stderr).to.not.contain('█');
  });
});
