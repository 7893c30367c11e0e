import { expect } from 'chai';
import { Role } from '../../src/gen/tessera/v1/user.js';
import { useCliSandbox } from '../helpers/cli-sandbox.js';
import type { TestDatabase } from '../helpers/database.js';
import { sql, sqlOn } from '../helpers/fixtures.js';
import { runTessera } from '../helpers/process.js';
import { bearer, call, startTestServer } from '../helpers/server.js';

describe('tessera create-service-account', function () {
  this.timeout(60_000);
  const sandbox = useCliSandbox();
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    ({ db, env } = await sandbox.fresh());
  });

  it('prints the API key once on stdout; the key then works against the server', async () => {
    const result = await runTessera(['create-service-account', '--name', 'billing-backend', '--role', 'auditor'], env);
    expect(result.code, result.stderr + result.stdout).to.equal(0);
    const keys = result.stdout.split('\n').filter((line) => line.startsWith('tsk_'));
    expect(keys).to.have.length(1);
    expect(keys[0]).to.match(/^tsk_[A-Za-z0-9_-]{43}$/);
    expect(result.stdout.split(keys[0].slice(12)).length - 1, 'the secret part appears once').to.equal(1);
    expect(result.stdout).to.contain('service account created');

    const server = await startTestServer(db, {
      TESSERA_PEPPER: env.TESSERA_PEPPER!,
      TESSERA_MASTER_KEY: env.TESSERA_MASTER_KEY!,
    });
    try {
      const res = await call(
        server.identity,
        'listUsers',
        { pageSize: 1, pageToken: '', filter: '', showDeleted: false },
        bearer(keys[0]),
      );
      expect(res.totalSize).to.be.at.least(1);
      const [event] = await sqlOn<{ actor_type: string; metadata: { name: string; role: string } }>(
        server,
        `select actor_type, metadata from audit_events where type = 'service_account.created'`,
      );
      expect(event.actor_type).to.equal('system');
      expect(event.metadata).to.include({ name: 'billing-backend', role: 'auditor' });
      const listed = await call(
        server.identity,
        'listUsers',
        { pageSize: 1, pageToken: '', filter: 'role = admin', showDeleted: false },
        bearer(keys[0]),
      );
      expect(listed.users[0].role).to.equal(Role.ROLE_ADMIN);
    } finally {
      await server.close();
    }
  });

  it('refuses a role a service account cannot have, with exit code 1 naming the role, and prints no key', async () => {
    const result = await runTessera(['create-service-account', '--name', 'bad-role', '--role', 'user'], env);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain('role');
    expect(result.stdout).to.not.match(/tsk_/);
  });

  it('refuses a name already in use with exit code 1, and prints no key', async () => {
    const first = await runTessera(['create-service-account', '--name', 'mail-relay'], env);
    expect(first.code, first.stderr).to.equal(0);
    const second = await runTessera(['create-service-account', '--name', 'mail-relay'], env);
    expect(second.code).to.equal(1);
    expect(second.stderr).to.contain('a service account with this name exists');
    expect(second.stdout).to.not.match(/tsk_/);
  });

  it('refuses an invalid name with exit code 1 naming the field, and creates nothing', async () => {
    const result = await runTessera(['create-service-account', '--name', 'Billing Backend!'], env);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain('name must be');
    const rows = await sql(`select id from service_accounts where name = $1`, ['Billing Backend!'], db);
    expect(rows).to.have.length(0);
  });

  it('exits with code 2 and says what is missing without --name', async () => {
    const result = await runTessera(['create-service-account'], env);
    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain('--name');
  });
});
