import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { signedInUser, sql } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { mfaChallengeOf, nextTotpCode, userWithTotp } from '../helpers/mfa.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, call } from '../helpers/server.js';

const auth = () => harness().server.auth;
const enroll = (token: string) => call(auth(), 'enrollTotp', {}, bearer(token));
const confirm = (token: string, code: string) => call(auth(), 'confirmTotp', { code }, bearer(token));
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('AuthService.EnrollTotp and ConfirmTotp', () => {
  // Codes are made fresh by moving the shared server's clock (test/helpers/mfa.ts): put it back for the next test.
  afterEach(() => harness().server.clock.reset());
  it('returns a base32 secret, its otpauth URI and the URI as a PNG QR code', async () => {
    const user = await signedInUser();
    const res = await enroll(user.accessToken);

    expect(res.secret).to.match(/^[A-Z2-7]{32}$/);
    const uri = new URL(res.otpauthUri);
    expect(uri.protocol).to.equal('otpauth:');
    expect(uri.searchParams.get('secret')).to.equal(res.secret);
    expect(decodeURIComponent(uri.pathname)).to.include(user.email);
    expect(Buffer.from(res.qrCodePng).subarray(0, 8).equals(PNG_SIGNATURE)).to.equal(true);
  });

  it('stores the secret sealed under the user data key, never in clear', async () => {
    const user = await signedInUser();
    const res = await enroll(user.accessToken);
    const [row] = await sql<{ secret_ciphertext: string; confirmed_at: Date | null }>(
      'select secret_ciphertext, confirmed_at from totp_factors where user_id = $1',
      [user.user!.id],
    );
    expect(row.secret_ciphertext).to.match(/^v1\./);
    expect(row.secret_ciphertext).to.not.include(res.secret);
    expect(row.confirmed_at).to.equal(null);
  });

  it('confirms with a real code and returns ten distinct recovery codes, stored only hashed', async () => {
    const user = await userWithTotp();
    expect(user.recoveryCodes).to.have.length(10);
    expect(new Set(user.recoveryCodes).size).to.equal(10);
    for (const code of user.recoveryCodes) expect(code).to.match(/^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/);
    const rows = await sql<{ code_hash: string }>('select code_hash from recovery_codes where user_id = $1', [user.user!.id]);
    expect(rows).to.have.length(10);
    const stored = JSON.stringify(rows);
    for (const code of user.recoveryCodes) expect(stored).to.not.include(code.replace(/-/g, ''));
  });

  it('refuses a wrong confirmation code, counts it, and leaves the factor pending', async () => {
    const user = await signedInUser();
    const { secret } = await enroll(user.accessToken);
    const right = await nextTotpCode(secret);
    const wrong = right === '000000' ? '111111' : '000000';

    await expectRpcError(confirm(user.accessToken, wrong), status.INVALID_ARGUMENT, {
      reason: 'INVALID_MFA_CODE',
      fields: ['code'],
    });
    const [row] = await sql<{ confirmed_at: Date | null }>('select confirmed_at from totp_factors where user_id = $1', [
      user.user!.id,
    ]);
    expect(row.confirmed_at).to.equal(null);
    const events = await sql<{ metadata: Record<string, unknown> }>(
      `select metadata from audit_events where type = 'mfa.verification_failed' and subject_user_id = $1`,
      [user.user!.id],
    );
    expect(events.map((e) => e.metadata)).to.deep.equal([{ operation: 'confirm_totp', method: 'totp', reason: 'wrong_code' }]);
    await confirm(user.accessToken, right);
  });

  it('validates the code field', async () => {
    const user = await signedInUser();
    await enroll(user.accessToken);
    await expectRpcError(confirm(user.accessToken, '12ab56'), status.INVALID_ARGUMENT, { fields: ['code'] });
    await expectRpcError(confirm(user.accessToken, ''), status.INVALID_ARGUMENT, { fields: ['code'] });
  });

  it('refuses to confirm without an enrolment', async () => {
    const user = await signedInUser();
    await expectRpcError(confirm(user.accessToken, '123456'), status.FAILED_PRECONDITION, { reason: 'TOTP_NOT_ENROLLED' });
  });

  it('never silently replaces a confirmed factor', async () => {
    const user = await userWithTotp();
    await expectRpcError(enroll(user.accessToken), status.FAILED_PRECONDITION, { reason: 'TOTP_ALREADY_ENABLED' });
  });

  it('replaces a pending enrolment with a new secret', async () => {
    const user = await signedInUser();
    const first = await enroll(user.accessToken);
    const second = await enroll(user.accessToken);
    expect(second.secret).to.not.equal(first.secret);
    await expectRpcError(confirm(user.accessToken, await nextTotpCode(first.secret)), status.INVALID_ARGUMENT, {
      reason: 'INVALID_MFA_CODE',
    });
    await confirm(user.accessToken, await nextTotpCode(second.secret));
  });

  it('needs an access token', async () => {
    await expectRpcError(call(auth(), 'enrollTotp', {}), status.UNAUTHENTICATED);
    await expectRpcError(call(auth(), 'confirmTotp', { code: '123456' }), status.UNAUTHENTICATED);
  });

  it('audits enrolment and confirmation without the secret or the codes', async () => {
    const user = await userWithTotp();
    const events = await sql<{ type: string; metadata: Record<string, unknown> }>(
      `select type, metadata from audit_events where subject_user_id = $1 and type like 'mfa.%' order by id`,
      [user.user!.id],
    );
    expect(events).to.deep.equal([
      { type: 'mfa.totp_enrolled', metadata: { replaced_pending: false } },
      { type: 'mfa.totp_confirmed', metadata: { recovery_codes: 10 } },
    ]);
    const all = JSON.stringify(await sql('select * from audit_events where subject_user_id = $1', [user.user!.id]));
    expect(all).to.not.include(user.secret);
    for (const code of user.recoveryCodes) expect(all).to.not.include(code);
  });
});

describe('AuthService.DisableTotp and RegenerateRecoveryCodes', () => {
  // Codes are made fresh by moving the shared server's clock (test/helpers/mfa.ts): put it back for the next test.
  afterEach(() => harness().server.clock.reset());
  it('regenerates the recovery codes on a current code: the old ones stop working', async () => {
    const user = await userWithTotp();
    const res = await call(
      auth(),
      'regenerateRecoveryCodes',
      { code: await nextTotpCode(user.secret) },
      bearer(user.accessToken),
    );
    expect(res.recoveryCodes).to.have.length(10);
    expect(res.recoveryCodes).to.not.include.members(user.recoveryCodes);
    const challengeId = await mfaChallengeOf(user);
    await expectRpcError(
      call(auth(), 'completeMfaLogin', {
        challengeId,
        code: '',
        recoveryCode: user.recoveryCodes[0],
      }),
      status.UNAUTHENTICATED,
      { reason: 'INVALID_MFA_CODE' },
    );
    await call(auth(), 'completeMfaLogin', {
      challengeId,
      code: '',
      recoveryCode: res.recoveryCodes[0],
    });
  });

  it('refuses to regenerate on a wrong code', async () => {
    const user = await userWithTotp();
    await expectRpcError(
      call(auth(), 'regenerateRecoveryCodes', { code: '000000' }, bearer(user.accessToken)),
      status.INVALID_ARGUMENT,
      { reason: 'INVALID_MFA_CODE', fields: ['code'] },
    );
  });

  it('disables with a code and the password; sign-in is then password only', async () => {
    const user = await userWithTotp();
    await call(
      auth(),
      'disableTotp',
      { code: await nextTotpCode(user.secret), currentPassword: user.password },
      bearer(user.accessToken),
    );
    const login = await call(auth(), 'login', { email: user.email, password: user.password });
    expect(login.tokens?.accessToken).to.be.a('string').and.not.equal('');
    expect(login.mfaChallenge).to.equal(undefined);
    const left = await sql(
      'select 1 from recovery_codes where user_id = $1 union all select 1 from totp_factors where user_id = $1',
      [user.user!.id],
    );
    expect(left).to.have.length(0);
    const [event] = await sql<{ metadata: unknown }>(
      `select metadata from audit_events where type = 'mfa.totp_disabled' and subject_user_id = $1`,
      [user.user!.id],
    );
    expect(event.metadata).to.deep.equal({ recovery_codes_removed: 10 });
  });

  it('refuses to disable with a wrong password or a wrong code, and keeps the factor', async () => {
    const user = await userWithTotp();
    await expectRpcError(
      call(
        auth(),
        'disableTotp',
        { code: await nextTotpCode(user.secret), currentPassword: 'not the password' },
        bearer(user.accessToken),
      ),
      status.INVALID_ARGUMENT,
      { reason: 'INVALID_CREDENTIALS', fields: ['current_password'] },
    );
    await expectRpcError(
      call(auth(), 'disableTotp', { code: '000000', currentPassword: user.password }, bearer(user.accessToken)),
      status.INVALID_ARGUMENT,
      { reason: 'INVALID_MFA_CODE', fields: ['code'] },
    );
    const login = await call(auth(), 'login', { email: user.email, password: user.password });
    expect(login.mfaChallenge?.challengeId).to.be.a('string');
  });
});
