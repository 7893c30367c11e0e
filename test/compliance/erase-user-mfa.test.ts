import { expect } from 'chai';
import { complianceClient } from '../helpers/audit.js';
import { adminToken, sql } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { userWithTotp } from '../helpers/mfa.js';
import { bearer, call } from '../helpers/server.js';

describe('ComplianceService.EraseUser of a user with a second factor', () => {
  // Codes are made fresh by moving the shared server's clock (test/helpers/mfa.ts): put it back for the next test.
  afterEach(() => harness().server.clock.reset());
  it('deletes the TOTP factor, the recovery codes and pending challenges', async () => {
    const user = await userWithTotp();
    await call(harness().server.auth, 'login', { email: user.email, password: user.password }); // a pending challenge
    const client = complianceClient();
    try {
      await call(
        client,
        'eraseUser',
        { userId: user.user!.id, reason: 'gdpr_art17_request', currentPassword: '' },
        bearer(await adminToken()),
      );
    } finally {
      client.close();
    }
    const left = await sql(
      `select 'totp' from totp_factors where user_id = $1
       union all select 'code' from recovery_codes where user_id = $1
       union all select 'challenge' from mfa_challenges where user_id = $1`,
      [user.user!.id],
    );
    expect(left).to.deep.equal([]);
  });
});
