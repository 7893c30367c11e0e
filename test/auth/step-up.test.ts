import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { decodeJwt } from 'jose';
import { complianceClient } from '../helpers/audit.js';
import { registerUser, serviceAccountKey, signedInUser, signedInWithRole, sql } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { standInSecondFactors, VALID_CODE, type StandInSecondFactors } from '../helpers/second-factors.js';
import { bearer, call } from '../helpers/server.js';
import { Role } from '../../src/gen/tessera/v1/user.js';

const NEW_PASSWORD = 'a freshly changed passphrase';
const auth = () => harness().server.auth;
const changePassword = (accessToken: string, currentPassword: string) =>
  call(auth(), 'changePassword', { currentPassword, newPassword: NEW_PASSWORD }, bearer(accessToken));
const reauthenticate = (accessToken: string, currentPassword: string, code = '') =>
  call(auth(), 'reauthenticate', { currentPassword, code }, bearer(accessToken));
const expectReauthenticationRequired = (call: Promise<unknown>) =>
  expectRpcError(call, status.UNAUTHENTICATED, { reason: 'REAUTHENTICATION_REQUIRED' });
/** Whether the account's password is still `password` (ChangePassword did nothing). */
const passwordUnchanged = async (email: string, password: string) => call(auth(), 'login', { email, password });

describe('Step-up: RPCs that need a recent authentication', () => {
  afterEach(() => harness().server.clock.reset());

  it('refuses ChangePassword to a token older than 10 minutes, changes nothing, and accepts it after Reauthenticate', async () => {
    const user = await signedInUser();
    harness().server.clock.advance(601);

    const refusal = await expectReauthenticationRequired(changePassword(user.accessToken, user.password));
    expect(refusal.message).to.include('Reauthenticate');
    await passwordUnchanged(user.email, user.password);

    const fresh = await reauthenticate(user.accessToken, user.password);
    await changePassword(fresh.accessToken, user.password);
    await call(auth(), 'login', { email: user.email, password: NEW_PASSWORD });
  });

  it('accepts a token whose sign-in is within the window', async () => {
    const user = await signedInUser();
    harness().server.clock.advance(540);
    await changePassword(user.accessToken, user.password);
  });

  it('is not satisfied by a refresh: the refreshed token keeps the old auth_time', async () => {
    const user = await signedInUser();
    harness().server.clock.advance(601);
    const refreshed = await call(auth(), 'refreshToken', { refreshToken: user.refreshToken });
    await expectReauthenticationRequired(changePassword(refreshed.tokens!.accessToken, user.password));
  });

  it('checks the caller first: a caller without the permission gets PERMISSION_DENIED, fresh or not', async () => {
    const user = await signedInUser();
    harness().server.clock.advance(601);
    await expectRpcError(
      call(auth(), 'rotateSigningKey', { immediate: false }, bearer(user.accessToken)),
      status.PERMISSION_DENIED,
      { reason: 'PERMISSION_DENIED' },
    );
  });

  it("applies to an administrator erasing another user's account: the rule is about the caller", async () => {
    const admin = await signedInWithRole('admin');
    const { user } = await registerUser();
    const compliance = complianceClient();
    harness().server.clock.advance(601);

    try {
      await expectReauthenticationRequired(
        call(compliance, 'eraseUser', { userId: user.id, reason: 'gdpr_art17', currentPassword: '' }, bearer(admin.accessToken)),
      );
    } finally {
      compliance.close();
    }
    const [row] = await sql<{ n: string }>('select count(*) as n from users where id = $1', [user.id]);
    expect(row.n).to.equal('1');
  });

  it('exempts service accounts: an API key has no sign-in to repeat', async () => {
    const admin = await serviceAccountKey(Role.ROLE_ADMIN);
    harness().server.clock.advance(24 * 3600);
    const res = await call(
      harness().server.identity,
      'createServiceAccount',
      { name: `svc-exempt-${Date.now()}`, role: Role.ROLE_SERVICE, certificateIdentity: '' },
      bearer(admin.apiKey),
    );
    expect(res.apiKey).to.match(/^tsk_/);
  });

  describe('with an active second factor', () => {
    let factors: StandInSecondFactors;
    let restore: () => void;
    beforeEach(() => ({ factors, restore } = standInSecondFactors()));
    afterEach(() => restore());

    it('refuses a fresh password-only (aal1) token, and accepts the aal2 token of Reauthenticate with a code', async () => {
      const user = await signedInUser();
      factors.enrolled.add(user.user!.id);

      await expectReauthenticationRequired(changePassword(user.accessToken, user.password));

      const fresh = await reauthenticate(user.accessToken, user.password, VALID_CODE);
      expect(fresh).to.deep.include({ amr: ['pwd', 'otp', 'mfa'], acr: 'aal2' });
      expect(decodeJwt(fresh.accessToken)).to.deep.include({ amr: ['pwd', 'otp', 'mfa'], acr: 'aal2' });
      await changePassword(fresh.accessToken, user.password);
    });

    it('still refuses an aal2 token once its authentication is too old', async () => {
      const user = await signedInUser();
      factors.enrolled.add(user.user!.id);
      const fresh = await reauthenticate(user.accessToken, user.password, VALID_CODE);
      harness().server.clock.advance(601);
      await expectReauthenticationRequired(changePassword(fresh.accessToken, user.password));
    });

    it('asks Reauthenticate for the code, and refuses a wrong one on the code field', async () => {
      const user = await signedInUser();
      factors.enrolled.add(user.user!.id);

      await expectRpcError(reauthenticate(user.accessToken, user.password), status.INVALID_ARGUMENT, { fields: ['code'] });
      await expectRpcError(reauthenticate(user.accessToken, user.password, '000000'), status.INVALID_ARGUMENT, {
        reason: 'INVALID_CREDENTIALS',
        fields: ['code'],
      });
    });

    it('does not check the code behind a wrong password, so a valid code is not used up', async () => {
      const user = await signedInUser();
      factors.enrolled.add(user.user!.id);
      await expectRpcError(reauthenticate(user.accessToken, 'not the password', VALID_CODE), status.INVALID_ARGUMENT, {
        reason: 'INVALID_CREDENTIALS',
        fields: ['current_password'],
      });
      expect(factors.checked).to.equal(0);
    });
  });
});
