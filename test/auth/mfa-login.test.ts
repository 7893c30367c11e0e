import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { MfaMethod } from '../../src/gen/tessera/v1/mfa.js';
import { auditEventsOfRequest, signedInUser, sql, traced } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { startMailTestBed, tokenFromMail } from '../helpers/mail.js';
import { nextTotpCode, totpCodeAt, userWithTotp } from '../helpers/mfa.js';
import { outcomesOf, tally } from '../helpers/outcomes.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, call, type TestServer } from '../helpers/server.js';

const auth = (server: TestServer = harness().server) => server.auth;
const login = (email: string, password: string, server?: TestServer) => call(auth(server), 'login', { email, password });
const complete = (challengeId: string, factor: { code?: string; recoveryCode?: string }, server?: TestServer) =>
  call(auth(server), 'completeMfaLogin', { challengeId, code: factor.code ?? '', recoveryCode: factor.recoveryCode ?? '' });
const challengeOf = async (email: string, password: string, server?: TestServer) =>
  (await login(email, password, server)).mfaChallenge!.challengeId;
const getProfile = (token: string) => call(harness().server.profile, 'getProfile', { userId: '' }, bearer(token));
const wrongCodeFor = async (secret: string) => {
  const right = await totpCodeAt(secret, harness().server.clock.now());
  return right === '000000' ? '111111' : '000000';
};

describe('AuthService.Login with a second factor', () => {
  // Codes are made fresh by moving the shared server's clock (test/helpers/mfa.ts): put it back for the next test.
  afterEach(() => harness().server.clock.reset());
  it('returns tokens and no challenge for an account without a factor', async () => {
    const user = await signedInUser();
    const res = await login(user.email, user.password);
    expect(res.tokens?.accessToken).to.be.a('string').and.not.equal('');
    expect(res.mfaChallenge).to.equal(undefined);
  });

  it('returns a 5-minute challenge and no tokens once a factor is confirmed, without login.succeeded', async () => {
    const user = await userWithTotp();
    const { metadata, requestId } = traced('');
    metadata.remove('authorization');
    const before = harness().server.clock.now().getTime();
    const mfaRequired = async () => {
      const text = await (await fetch(`http://127.0.0.1:${harness().server.tessera.httpPort}/metrics`)).text();
      return Number(text.match(/^tessera_login_attempts_total\{outcome="mfa_required"\} (\d+)$/m)?.[1] ?? 0);
    };
    const challengesBefore = await mfaRequired();
    const res = await call(auth(), 'login', { email: user.email, password: user.password }, metadata);
    // Counted apart from successful sign-ins: no session was opened.
    expect(await mfaRequired()).to.equal(challengesBefore + 1);

    expect(res.tokens).to.equal(undefined);
    expect(res.user?.id).to.equal(user.user!.id);
    const challenge = res.mfaChallenge!;
    expect(challenge.challengeId).to.match(/^tsm_/);
    expect(challenge.methods).to.deep.equal([MfaMethod.MFA_METHOD_TOTP, MfaMethod.MFA_METHOD_RECOVERY_CODE]);
    const ttl = challenge.expiresAt!.getTime() - before;
    expect(ttl).to.be.within(299_000, 301_000);
    const events = await auditEventsOfRequest(requestId);
    expect(events.map((e) => e.type)).to.deep.equal(['mfa.challenge_issued']);
    expect(events[0].metadata).to.include({ method: 'password' });
    expect(JSON.stringify(events)).to.not.include(challenge.challengeId);
    const [row] = await sql<{ challenge_hash: string }>('select challenge_hash from mfa_challenges where user_id = $1', [
      user.user!.id,
    ]);
    expect(row.challenge_hash).to.not.include(challenge.challengeId);
  });

  it('completes with an authenticator code: the tokens work and login.succeeded names the factor', async () => {
    const user = await userWithTotp();
    const challengeId = await challengeOf(user.email, user.password);
    const { metadata, requestId } = traced('');
    metadata.remove('authorization');
    const res = await call(
      auth(),
      'completeMfaLogin',
      { challengeId, code: await nextTotpCode(user.secret), recoveryCode: '' },
      metadata,
    );
    await getProfile(res.tokens!.accessToken);
    const events = await auditEventsOfRequest(requestId);
    expect(events.map((e) => e.type)).to.deep.equal(['login.succeeded']);
    expect(events[0].metadata).to.include({ method: 'password', mfa_method: 'totp' });
  });

  it('accepts a challenge once', async () => {
    const user = await userWithTotp();
    const challengeId = await challengeOf(user.email, user.password);
    await complete(challengeId, { code: await nextTotpCode(user.secret) });
    await expectRpcError(complete(challengeId, { code: await nextTotpCode(user.secret) }), status.UNAUTHENTICATED, {
      reason: 'INVALID_MFA_CHALLENGE',
    });
  });

  it('refuses a wrong code and a replayed one, and audits both', async () => {
    const user = await userWithTotp();
    const code = await nextTotpCode(user.secret);
    await complete(await challengeOf(user.email, user.password), { code });
    const challengeId = await challengeOf(user.email, user.password);

    await expectRpcError(complete(challengeId, { code }), status.UNAUTHENTICATED, { reason: 'INVALID_MFA_CODE' });
    await expectRpcError(complete(challengeId, { code: await wrongCodeFor(user.secret) }), status.UNAUTHENTICATED, {
      reason: 'INVALID_MFA_CODE',
    });
    const events = await sql<{ metadata: Record<string, unknown> }>(
      `select metadata from audit_events where type = 'mfa.verification_failed' and subject_user_id = $1 order by id`,
      [user.user!.id],
    );
    expect(events.map((e) => e.metadata.reason)).to.deep.equal(['replayed_code', 'wrong_code']);
    // The challenge survives wrong codes (the guess limit bounds them).
    await complete(challengeId, { code: await nextTotpCode(user.secret) });
  });

  it('accepts each recovery code once, in any case and without dashes', async () => {
    const user = await userWithTotp();
    const [first, second] = user.recoveryCodes;
    const res = await complete(await challengeOf(user.email, user.password), {
      recoveryCode: first!.replace(/-/g, '').toUpperCase(),
    });
    await getProfile(res.tokens!.accessToken);
    await expectRpcError(
      complete(await challengeOf(user.email, user.password), { recoveryCode: first }),
      status.UNAUTHENTICATED,
      { reason: 'INVALID_MFA_CODE' },
    );
    await complete(await challengeOf(user.email, user.password), { recoveryCode: second });
    const [used] = await sql<{ metadata: Record<string, unknown> }>(
      `select metadata from audit_events where type = 'mfa.recovery_code_used' and subject_user_id = $1 order by id desc limit 1`,
      [user.user!.id],
    );
    expect(used.metadata).to.deep.equal({ operation: 'login', remaining: 8 });
  });

  it('refuses an expired challenge', async () => {
    const user = await userWithTotp();
    const challengeId = await challengeOf(user.email, user.password);
    harness().server.clock.advance(301);
    await expectRpcError(complete(challengeId, { code: await nextTotpCode(user.secret) }), status.UNAUTHENTICATED, {
      reason: 'INVALID_MFA_CHALLENGE',
    });
  });

  it('validates the request', async () => {
    await expectRpcError(complete('', { code: '123456' }), status.INVALID_ARGUMENT, { fields: ['challenge_id'] });
    await expectRpcError(complete('tsm_x', {}), status.INVALID_ARGUMENT, { fields: ['code'] });
    await expectRpcError(complete('tsm_x', { code: '12345' }), status.INVALID_ARGUMENT, { fields: ['code'] });
    await expectRpcError(complete('tsm_x', { code: '123456', recoveryCode: 'aaaa-aaaa-aaaa-aaaa' }), status.INVALID_ARGUMENT, {
      fields: ['recovery_code'],
    });
    await expectRpcError(complete('tsm_unknown', { code: '123456' }), status.UNAUTHENTICATED, {
      reason: 'INVALID_MFA_CHALLENGE',
    });
  });

  it('counts wrong codes with the password guesses across new challenges, and a locked account stays locked', async () => {
    const user = await userWithTotp();
    const wrong = await wrongCodeFor(user.secret);
    // Each round passes the password again (a new challenge) and then guesses wrong: the right password must not
    // reset the count, or an attacker holding it could guess codes forever.
    for (let i = 0; i < 10; i++) {
      const challengeId = await challengeOf(user.email, user.password);
      await expectRpcError(complete(challengeId, { code: wrong }), status.UNAUTHENTICATED, { reason: 'INVALID_MFA_CODE' });
    }
    await expectRpcError(login(user.email, user.password), status.RESOURCE_EXHAUSTED, { reason: 'TOO_MANY_ATTEMPTS' });
    const [lastChallenge] = await sql<{ id: string }>('select id from mfa_challenges where user_id = $1 limit 1', [
      user.user!.id,
    ]);
    expect(lastChallenge).to.not.equal(undefined);
  });

  it('refuses the right code once the account is locked', async () => {
    const user = await userWithTotp();
    const challengeId = await challengeOf(user.email, user.password);
    const wrong = await wrongCodeFor(user.secret);
    for (let i = 0; i < 10; i++) {
      await expectRpcError(complete(challengeId, { code: wrong }), status.UNAUTHENTICATED, { reason: 'INVALID_MFA_CODE' });
    }
    await expectRpcError(complete(challengeId, { code: await nextTotpCode(user.secret) }), status.RESOURCE_EXHAUSTED, {
      reason: 'TOO_MANY_ATTEMPTS',
    });
  });

  it('signs in exactly once when one challenge is completed twice at the same time', async () => {
    const user = await userWithTotp();
    const challengeId = await challengeOf(user.email, user.password);
    const code = await nextTotpCode(user.secret);
    const outcomes = await outcomesOf([complete(challengeId, { code }), complete(challengeId, { code })]);
    expect(tally(outcomes)).to.deep.equal({ OK: 1, 'UNAUTHENTICATED/INVALID_MFA_CHALLENGE': 1 });
    const sessions = await sql('select id from sessions where user_id = $1', [user.user!.id]);
    expect(sessions).to.have.length(2); // the one opened before enrolment, and this one
  });

  it('keeps the factor through a password reset', async function () {
    this.timeout(60_000);
    const bed = await startMailTestBed();
    try {
      const user = await userWithTotp(bed.server);
      await call(bed.server.auth, 'requestPasswordReset', { email: user.email });
      const token = tokenFromMail(await bed.smtp.waitFor(user.email));
      await call(bed.server.auth, 'resetPassword', { token, newPassword: 'a brand new passphrase' });
      const res = await login(user.email, 'a brand new passphrase', bed.server);
      expect(res.tokens).to.equal(undefined);
      expect(res.mfaChallenge?.challengeId).to.match(/^tsm_/);
    } finally {
      await bed.close();
    }
  });

  it('leaves no code or challenge in the logs', () => {
    expect(harness().server.logs.text()).to.not.match(/tsm_[A-Za-z0-9_-]{20}/);
  });
});
