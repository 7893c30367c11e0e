import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { MfaMethod } from '../../src/gen/tessera/v1/mfa.js';
import { sql, uniqueEmail } from '../helpers/fixtures.js';
import { nextTotpCode } from '../helpers/mfa.js';
import { startOidcTestSetup, type OidcTestSetup } from '../helpers/oidc-provider.js';
import { bearer, call } from '../helpers/server.js';

describe('AuthService.LoginWithProvider with a second factor', function () {
  this.timeout(30_000);
  let setup: OidcTestSetup;
  before(async () => {
    setup = await startOidcTestSetup();
  });
  after(() => setup.close());

  /** A provider-created account with a confirmed authenticator; signs in again with `amr` in the ID token. */
  async function providerUserWithTotp() {
    const sub = `sub-${randomBytes(8).toString('hex')}`;
    const email = uniqueEmail('oidc-mfa');
    const login = async (amr?: string[]) =>
      call(setup.server.auth, 'loginWithProvider', {
        provider: 'test-idp',
        idToken: await setup.provider.idToken(sub, { email, email_verified: true, ...(amr ? { amr } : {}) }),
      });
    const first = await login();
    const token = first.tokens!.accessToken;
    const { secret } = await call(setup.server.auth, 'enrollTotp', {}, bearer(token));
    await call(setup.server.auth, 'confirmTotp', { code: await nextTotpCode(secret, setup.server) }, bearer(token));
    return { login, secret, userId: first.user!.id };
  }

  it('asks for the second factor when the provider asserts none, then signs in with a code', async () => {
    const user = await providerUserWithTotp();
    for (const amr of [undefined, ['pwd'], ['otp']]) {
      const res = await user.login(amr);
      expect(res.tokens).to.equal(undefined);
      expect(res.mfaChallenge!.methods).to.include(MfaMethod.MFA_METHOD_TOTP);
      const done = await call(setup.server.auth, 'completeMfaLogin', {
        challengeId: res.mfaChallenge!.challengeId,
        code: await nextTotpCode(user.secret, setup.server),
        recoveryCode: '',
      });
      expect(done.tokens!.accessToken).to.be.a('string').and.not.equal('');
    }
    const [succeeded] = await sql<{ metadata: Record<string, unknown> }>(
      `select metadata from audit_events where type = 'login.succeeded' and subject_user_id = $1 order by id desc limit 1`,
      [user.userId],
    );
    expect(succeeded.metadata).to.include({ method: 'oidc:test-idp', mfa_method: 'totp' });
  });

  it('signs in at once when the provider asserts MFA in amr', async () => {
    const user = await providerUserWithTotp();
    for (const amr of [
      ['pwd', 'mfa'],
      ['pwd', 'otp'],
      ['hwk', 'pin'],
    ]) {
      const res = await user.login(amr);
      expect(res.mfaChallenge).to.equal(undefined);
      expect(res.tokens!.accessToken).to.be.a('string').and.not.equal('');
    }
  });
});
