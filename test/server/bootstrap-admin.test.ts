import { expect } from 'chai';
import { Role } from '../../src/gen/tessera/v1/user.js';
import { sql } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { BOOTSTRAP_ADMIN, call, startTestServer } from '../helpers/server.js';
import { emailIndexOf } from '../helpers/email-index.js';

describe('bootstrap administrator', () => {
  it('can sign in on the shared server as a verified ROLE_ADMIN', async () => {
    const login = await call(harness().server.auth, 'login', BOOTSTRAP_ADMIN);
    expect(login.user!.role).to.equal(Role.ROLE_ADMIN);
    expect(login.user!.emailVerified).to.equal(true);
    expect(login.user!.email).to.equal(BOOTSTRAP_ADMIN.email);
  });

  it('is not created again when a second server starts on the same database with the same settings', async function () {
    this.timeout(20_000);
    const countAdmins = async () =>
      Number((await sql<{ count: string }>(`select count(*) from users where role = 'admin'`))[0].count);
    const before = await countAdmins();
    const second = await startTestServer(harness().db, harness().server.env);
    try {
      expect(await countAdmins()).to.equal(before);
      const rows = await sql(`select id from users where email_index = $1 and role = 'admin'`, [
        emailIndexOf(BOOTSTRAP_ADMIN.email),
      ]);
      expect(rows).to.have.length(1);
      // Other tests promote users to admin in the shared database, so `before` may exceed 1;
      // what matters is that the second start added no one.
      expect(before).to.be.at.least(1);
      const login = await call(second.auth, 'login', BOOTSTRAP_ADMIN);
      expect(login.user!.id).to.equal(rows[0].id);
    } finally {
      await second.close();
    }
  });
});
