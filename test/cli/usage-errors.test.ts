import { expect } from 'chai';
import { useCliSandbox } from '../helpers/cli-sandbox.js';
import { runTessera } from '../helpers/process.js';

describe('tessera usage errors', function () {
  this.timeout(30_000);
  const sandbox = useCliSandbox();
  let env: NodeJS.ProcessEnv;

  before(async () => {
    // The database is a closed port: a command that tried to reach it would exit 3, not 2.
    ({ env } = await sandbox.unreachable());
  });

  const cases: { args: string[]; says: string[] }[] = [
    { args: ['launch'], says: ["unknown command 'launch'"] },
    { args: ['start', '--port', '50051'], says: ["unknown option '--port'"] },
    { args: ['migrate', 'now'], says: ['too many arguments'] },
    { args: ['create-admin'], says: ["required option '--email <address>' not specified"] },
    // A password on the command line would show in `ps` and shell history: there is no such option.
    {
      args: ['create-admin', '--email', 'ops@example.com', '--password', 'secret passphrase'],
      says: ["unknown option '--password'"],
    },
    { args: ['create-service-account'], says: ["required option '--name <name>' not specified"] },
    { args: ['rotate-signing-key', '--later'], says: ["unknown option '--later'"] },
    { args: ['import-users'], says: ["missing required argument 'file'"] },
    { args: ['import-users', '/nonexistent/users.jsonl'], says: ['/nonexistent/users.jsonl', 'no such file'] },
  ];

  for (const { args, says } of cases) {
    it(`exits with code 2 for \`tessera ${args.join(' ')}\`, saying what is wrong`, async () => {
      const result = await runTessera(args, env);
      expect(result.code, result.stderr).to.equal(2);
      for (const text of says) expect(result.stderr).to.contain(text);
      expect(result.stderr).to.contain('--help');
      expect(result.stdout).to.equal('');
      expect(result.stderr).to.not.contain('secret passphrase');
    });
  }

  it('exits with code 2 in production without TESSERA_PEPPER, naming the variable', async () => {
    const { env: production } = await sandbox.fresh({ NODE_ENV: 'production', TESSERA_PEPPER: undefined });
    const result = await runTessera(['start'], production);
    expect(result.code).to.equal(2);
    const output = result.stdout + result.stderr;
    expect(output).to.contain('TESSERA_PEPPER');
    expect(output).to.not.contain('TESSERA_MASTER_KEY');
  });
});
