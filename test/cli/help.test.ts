import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { useCliSandbox } from '../helpers/cli-sandbox.js';
import { PROJECT_ROOT, runTessera } from '../helpers/process.js';

const COMMANDS = ['start', 'migrate', 'create-admin', 'create-service-account', 'rotate-signing-key', 'import-users'];

describe('tessera --help', function () {
  this.timeout(30_000);
  const sandbox = useCliSandbox();
  let env: NodeJS.ProcessEnv;

  before(async () => {
    // Help never touches the database: a closed port proves it.
    ({ env } = await sandbox.unreachable());
  });

  it('lists every command and the exit codes, on stdout with exit code 0', async () => {
    const result = await runTessera(['--help'], env);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.contain('Usage: tessera [options] [command]');
    for (const command of COMMANDS) expect(result.stdout).to.match(new RegExp(`^  ${command}\\b`, 'm'));
    expect(result.stdout).to.contain('Exit codes:').and.to.contain('3  the database could not be reached');
    expect(result.stderr).to.equal('');
  });

  for (const command of COMMANDS) {
    it(`describes ${command} with examples and the exit codes`, async () => {
      const result = await runTessera([command, '--help'], env);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.contain(`Usage: tessera ${command}`);
      expect(result.stdout).to.match(/Examples:\n {2}(tessera|node dist\/main\.js|\S+=\S+ tessera) /);
      expect(result.stdout).to.contain(`tessera ${command}`);
      expect(result.stdout).to.contain('2  usage error');
    });
  }

  it('lists retention and describes retention run with examples and the exit codes', async () => {
    expect((await runTessera(['--help'], env)).stdout).to.match(/^ {2}retention\b/m);
    const result = await runTessera(['retention', 'run', '--help'], env);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.contain('Usage: tessera retention run');
    expect(result.stdout).to.match(/Examples:\n {2}tessera retention run/);
    expect(result.stdout).to.contain('AUDIT_PII_RETENTION_DAYS').and.to.contain('2  usage error');
  });

  it('prints the package version with --version', async () => {
    const { version } = JSON.parse(readFileSync(`${PROJECT_ROOT}/package.json`, 'utf8')) as { version: string };
    const result = await runTessera(['--version'], env);
    expect(result.code).to.equal(0);
    expect(result.stdout.trim()).to.equal(version);
  });

  it('shows the usage on stderr with exit code 2 when no command is given', async () => {
    const result = await runTessera([], env);
    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain('Usage: tessera [options] [command]');
    expect(result.stdout).to.equal('');
  });
});
