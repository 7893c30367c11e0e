import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { MfaMethod } from '../../src/gen/tessera/v1/mfa.js';
import { registerUser, sql } from '../helpers/fixtures.js';
import { nextTotpCode } from '../helpers/mfa.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, call, startSiblingServer, type TestServer } from '../helpers/server.js';

describe('MFA_REQUIRED_ROLES', function () {
  this.timeout(30_000);
  let server: TestServer;
  before(async () => {
    server = await startSiblingServer({ MFA_REQUIRED_ROLES: 'admin' });
  });
  after(() => server.close());

  async function userWithRole(role: 'admin' | 'user') {
    const registered = await registerUser({ server });
    await sql('update users set role = $1, email_verified_at = now() where id = $2', [role, registered.user.id]);
    return registered;
  }
  const login = (email: string, password: string) => call(server.auth, 'login', { email, password });
  const complete = (challengeId: string, code: string) =>
    call(server.auth, 'completeMfaLogin', { challengeId, code, recoveryCode: '' });

  it('gives an administrator without a factor no tokens, only a challenge to enroll', async () => {
    const admin = await userWithRole('admin');
    const res = await login(admin.email, admin.password);
    expect(res.tokens).to.equal(undefined);
    expect(res.mfaChallenge!.methods).to.deep.equal([MfaMethod.MFA_METHOD_TOTP_ENROLLMENT_REQUIRED]);
    const sessions = await sql('select id from sessions where user_id = $1', [admin.user.id]);
    expect(sessions).to.have.length(0);
  });

  it('lets them enroll with the challenge and sign in with the new authenticator, which then stays required', async () => {
    const admin = await userWithRole('admin');
    const challengeId = (await login(admin.email, admin.password)).mfaChallenge!.challengeId;

    const enrolment = await call(server.auth, 'enrollTotpForChallenge', { challengeId });
    const done = await complete(challengeId, await nextTotpCode(enrolment.secret, server));

    expect(done.recoveryCodes).to.have.length(10);
    await call(server.profile, 'getProfile', { userId: '' }, bearer(done.tokens!.accessToken));
    const again = await login(admin.email, admin.password);
    expect(again.mfaChallenge!.methods).to.deep.equal([MfaMethod.MFA_METHOD_TOTP, MfaMethod.MFA_METHOD_RECOVERY_CODE]);
    await expectRpcError(
      call(server.auth, 'enrollTotpForChallenge', { challengeId: again.mfaChallenge!.challengeId }),
      status.UNAUTHENTICATED,
      {
        reason: 'INVALID_MFA_CHALLENGE',
      },
    );
  });

  it('refuses to answer an enrolment challenge before enrolling, and a wrong code after', async () => {
    const admin = await userWithRole('admin');
    const challengeId = (await login(admin.email, admin.password)).mfaChallenge!.challengeId;
    await expectRpcError(complete(challengeId, '123456'), status.FAILED_PRECONDITION, { reason: 'TOTP_NOT_ENROLLED' });
    const { secret } = await call(server.auth, 'enrollTotpForChallenge', { challengeId });
    const right = await nextTotpCode(secret, server);
    await expectRpcError(complete(challengeId, right === '000000' ? '111111' : '000000'), status.UNAUTHENTICATED, {
      reason: 'INVALID_MFA_CODE',
    });
    await complete(challengeId, right);
  });

  it('leaves other roles alone', async () => {
    const user = await userWithRole('user');
    const res = await login(user.email, user.password);
    expect(res.tokens!.accessToken).to.be.a('string').and.not.equal('');
  });

  it('validates the challenge of EnrollTotpForChallenge', async () => {
    await expectRpcError(call(server.auth, 'enrollTotpForChallenge', { challengeId: '' }), status.INVALID_ARGUMENT, {
      fields: ['challenge_id'],
    });
    await expectRpcError(call(server.auth, 'enrollTotpForChallenge', { challengeId: 'tsm_unknown' }), status.UNAUTHENTICATED, {
      reason: 'INVALID_MFA_CHALLENGE',
    });
  });
});
