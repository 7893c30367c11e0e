import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { Role } from '../../src/gen/tessera/v1/user.js';
import { useCliSandbox } from '../helpers/cli-sandbox.js';
import { sql, uniqueEmail } from '../helpers/fixtures.js';
import { PROJECT_ROOT, runTessera, TESSERA_MAIN, waitForExit, waitForLine } from '../helpers/process.js';
import { call, startTestServer } from '../helpers/server.js';
import type { TestDatabase } from '../helpers/database.js';
import { emailIndexOf } from '../helpers/email-index.js';

/** Signs in on a server over `db` with the secrets of `env`; returns the user. */
async function signIn(db: TestDatabase, env: NodeJS.ProcessEnv, email: string, password: string) {
  const server = await startTestServer(db, {
    TESSERA_PEPPER: env.TESSERA_PEPPER!,
    TESSERA_MASTER_KEY: env.TESSERA_MASTER_KEY!,
    TESSERA_BOOTSTRAP_ADMIN_EMAIL: '',
    TESSERA_BOOTSTRAP_ADMIN_PASSWORD: '',
  });
  try {
    return (await call(server.auth, 'login', { email, password })).user!;
  } finally {
    await server.close();
  }
}

describe('tessera create-admin', function () {
  this.timeout(30_000);
  const sandbox = useCliSandbox();

  it('creates an administrator with the password read from stdin, who can then sign in as ROLE_ADMIN', async () => {
    const { db, env } = await sandbox.fresh();
    const email = uniqueEmail('cli-admin');
    const password = 'administrator passphrase from stdin';

    const result = await runTessera(['create-admin', '--email', email], env, { stdin: `${password}\n` });
    expect(result.code, result.stderr + result.stdout).to.equal(0);
    expect(result.stdout).to.contain('administrator created');
    expect(result.stdout + result.stderr).to.not.contain(password);

    const user = await signIn(db, env, email, password);
    expect(user.role).to.equal(Role.ROLE_ADMIN);
    expect(user.emailVerified).to.equal(true);
  });

  it('takes the password from TESSERA_ADMIN_PASSWORD when set, ignoring stdin', async () => {
    const { db, env } = await sandbox.fresh();
    const email = uniqueEmail('cli-env-admin');
    const password = 'administrator passphrase from the environment';

    const result = await runTessera(
      ['create-admin', '--email', email],
      { ...env, TESSERA_ADMIN_PASSWORD: password },
      {
        stdin: 'not this one at all\n',
      },
    );
    expect(result.code, result.stderr + result.stdout).to.equal(0);
    expect(result.stdout + result.stderr).to.not.contain(password);

    expect((await signIn(db, env, email, password)).role).to.equal(Role.ROLE_ADMIN);
  });

  it('asks for the password at a prompt that does not echo it, on a terminal', async () => {
    const { db, env } = await sandbox.fresh();
    const email = uniqueEmail('cli-tty-admin');
    const password = 'administrator passphrase typed at a prompt';
    // util-linux `script` runs the command on a pseudo-terminal, whose echo would show what is typed.
    const child = spawn('script', ['-qefc', `${process.execPath} ${TESSERA_MAIN} create-admin --email ${email}`, '/dev/null'], {
      cwd: PROJECT_ROOT,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const exited = waitForExit(child, 25_000);
    await waitForLine(child, 'Password for the new administrator: ', 20_000);
    child.stdin!.write(`${password}\r`);
    const result = await exited;
    child.stdin!.end();

    expect(result.code, result.stdout).to.equal(0);
    expect(result.stdout).to.contain('administrator created');
    expect(result.stdout).to.not.contain(password);
    expect((await signIn(db, env, email, password)).role).to.equal(Role.ROLE_ADMIN);
  });

  it('refuses a short password with exit code 1 naming the password, and creates nothing', async () => {
    const { db, env } = await sandbox.fresh();
    const result = await runTessera(['create-admin', '--email', uniqueEmail('cli-short')], env, { stdin: 'short\n' });
    expect(result.code).to.equal(1);
    expect(result.stderr)
      .to.match(/password/i)
      .and.to.contain('at least 8');
    const [{ count }] = await sql<{ count: string }>(`select count(*) from users`, [], db);
    expect(count).to.equal('0');
  });

  it('refuses an email that is already taken with exit code 1', async () => {
    const { env } = await sandbox.fresh();
    const email = uniqueEmail('cli-twice');
    const first = await runTessera(['create-admin', '--email', email], env, { stdin: 'administrator passphrase\n' });
    expect(first.code, first.stderr).to.equal(0);
    const second = await runTessera(['create-admin', '--email', email.toUpperCase()], env, {
      stdin: 'administrator passphrase\n',
    });
    expect(second.code).to.equal(1);
    expect(second.stderr).to.contain('already exists');
  });

  it('creates exactly one administrator when two processes race for the same email', async () => {
    const { db, env } = await sandbox.fresh();
    const email = uniqueEmail('cli-race');
    const results = await Promise.all(
      [1, 2].map(() => runTessera(['create-admin', '--email', email], env, { stdin: 'administrator passphrase\n' })),
    );
    expect(results.map((r) => r.code).sort()).to.deep.equal([0, 1]);
    expect(results.find((r) => r.code === 1)!.stderr).to.contain('already exists');
    const rows = await sql(`select id from users where email_index = $1`, [emailIndexOf(email)], db);
    expect(rows).to.have.length(1);
  });

  it('exits with code 2 and says what is missing without --email', async () => {
    const { env } = await sandbox.fresh();
    const result = await runTessera(['create-admin'], env, { stdin: 'administrator passphrase\n' });
    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain('--email');
  });
});
