import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useCliSandbox } from '../helpers/cli-sandbox.js';
import { runTessera } from '../helpers/process.js';

describe('tessera without a reachable database', function () {
  this.timeout(30_000);
  const sandbox = useCliSandbox();
  const dir = mkdtempSync(join(tmpdir(), 'tessera-unreachable-'));
  const file = join(dir, 'users.jsonl');
  writeFileSync(file, `${JSON.stringify({ email: 'someone@example.com', password_hash: 'x' })}\n`);
  after(() => rmSync(dir, { recursive: true, force: true }));

  const commands: { args: string[]; stdin?: string }[] = [
    { args: ['start'] },
    { args: ['migrate'] },
    { args: ['create-admin', '--email', 'ops@example.com'], stdin: 'administrator passphrase\n' },
    { args: ['create-service-account', '--name', 'billing-backend'] },
    { args: ['rotate-signing-key', '--now'] },
    { args: ['import-users', file] },
    { args: ['retention', 'run'] },
  ];

  for (const { args, stdin } of commands) {
    it(`exits with code 3 from \`tessera ${args[0]}\`, naming the address but not the password`, async () => {
      const { env, port, password } = await sandbox.unreachable();
      const result = await runTessera(args, env, { stdin });
      expect(result.code, result.stderr + result.stdout).to.equal(3);
      expect(result.stderr).to.contain(`could not reach the database at 127.0.0.1:${port} (ECONNREFUSED)`);
      expect(result.stdout + result.stderr).to.not.contain(password);
    });
  }
});
