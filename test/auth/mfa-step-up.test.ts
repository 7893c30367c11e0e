import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { harness } from '../helpers/harness.js';
import { mfaChallengeOf, nextTotpCode, userWithTotp } from '../helpers/mfa.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, call } from '../helpers/server.js';

const auth = () => harness().server.auth;

/**
 * Step-up with a real authenticator (test/auth/step-up.test.ts covers the rule
 * itself behind a stand-in factor): once a factor is active, a recent
 * password-only authentication is not enough for a step-up RPC.
 */
describe('Step-up of an account with an active authenticator', () => {
  // Codes are made fresh by moving the shared server's clock (test/helpers/mfa.ts): put it back for the next test.
  afterEach(() => harness().server.clock.reset());

  it('refuses a fresh aal1 token, then accepts the token Reauthenticate returns for the password and a code', async () => {
    const user = await userWithTotp();
    // Reauthenticating with the password alone is refused while a factor is active: the code is required.
    await expectRpcError(
      call(auth(), 'reauthenticate', { currentPassword: user.password, code: '' }, bearer(user.accessToken)),
      status.INVALID_ARGUMENT,
      { fields: ['code'] },
    );

    // A session opened before the factor existed is aal1, however recent: the token it had is refused.
    const introspected = await call(auth(), 'introspectToken', { token: user.tokens!.accessToken });
    expect(introspected.acr).to.equal('aal1');
    await expectRpcError(
      call(auth(), 'regenerateRecoveryCodes', { code: await nextTotpCode(user.secret) }, bearer(user.tokens!.accessToken)),
      status.UNAUTHENTICATED,
      { reason: 'REAUTHENTICATION_REQUIRED' },
    );

    const stepped = await call(
      auth(),
      'reauthenticate',
      { currentPassword: user.password, code: await nextTotpCode(user.secret) },
      bearer(user.tokens!.accessToken),
    );
    expect(stepped.acr).to.equal('aal2');
    expect(stepped.amr).to.include.members(['pwd', 'otp', 'mfa']);
    const res = await call(
      auth(),
      'regenerateRecoveryCodes',
      { code: await nextTotpCode(user.secret) },
      bearer(stepped.accessToken),
    );
    expect(res.recoveryCodes).to.have.length(10);
  });

  it('accepts the token of a sign-in completed with a code, and a code used to reauthenticate is not accepted again', async () => {
    const user = await userWithTotp();
    const challengeId = await mfaChallengeOf(user);
    const code = await nextTotpCode(user.secret);
    const done = await call(auth(), 'completeMfaLogin', { challengeId, code, recoveryCode: '' });
    expect((await call(auth(), 'introspectToken', { token: done.tokens!.accessToken })).acr).to.equal('aal2');
    // The same code again, inside its 30-second step, to reauthenticate: refused as a replay.
    await expectRpcError(
      call(auth(), 'reauthenticate', { currentPassword: user.password, code }, bearer(done.tokens!.accessToken)),
      status.INVALID_ARGUMENT,
      { fields: ['code'] },
    );
  });
});
