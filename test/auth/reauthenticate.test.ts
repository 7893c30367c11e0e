import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { decodeJwt } from 'jose';
import { auditEventsOfRequest, serviceAccountKey, signedInUser, sql, traced } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { standInSecondFactors, VALID_CODE } from '../helpers/second-factors.js';
import { bearer, call } from '../helpers/server.js';
import { Role } from '../../src/gen/tessera/v1/user.js';

const WRONG = 'not the right passphrase';
/** LOGIN_MAX_FAILURES_PER_ACCOUNT's default: the test server keeps it. */
const MAX_FAILURES = 10;
const auth = () => harness().server.auth;
const reauthenticate = (accessToken: string, currentPassword: string, code = '') =>
  call(auth(), 'reauthenticate', { currentPassword, code }, bearer(accessToken));
const changePassword = (accessToken: string, currentPassword: string) =>
  call(auth(), 'changePassword', { currentPassword, newPassword: 'a freshly changed passphrase' }, bearer(accessToken));
const sessionAssurance = async (accessToken: string) =>
  (
    await sql<{ authenticated_at: Date; amr: string[]; acr: string }>(
      'select authenticated_at, amr, acr from sessions where id = $1',
      [decodeJwt(accessToken).sid],
    )
  )[0];

describe('AuthService.Reauthenticate', () => {
  afterEach(() => harness().server.clock.reset());

  it('returns a new access token of the same session, renews the stored assurance and audits it without secrets', async () => {
    const user = await signedInUser();
    harness().server.clock.advance(700);
    const { metadata, requestId } = traced(user.accessToken);

    const res = await call(auth(), 'reauthenticate', { currentPassword: user.password, code: '' }, metadata);

    expect(res.accessToken).to.not.equal(user.accessToken);
    expect(decodeJwt(res.accessToken).sid).to.equal(decodeJwt(user.accessToken).sid);
    expect(res.accessTokenExpiresAt!.getTime()).to.equal((decodeJwt(res.accessToken).exp as number) * 1000);
    const stored = await sessionAssurance(user.accessToken);
    expect(stored.authenticated_at.getTime()).to.equal(res.authTime!.getTime());
    expect(stored).to.deep.include({ amr: ['pwd'], acr: 'aal1' });
    const events = await auditEventsOfRequest(requestId);
    expect(events.map((e) => e.type)).to.deep.equal(['reauthentication.succeeded']);
    expect(events[0]).to.deep.include({ actor_type: 'user', actor_id: user.user!.id, subject_user_id: user.user!.id });
    expect(events[0].metadata).to.deep.equal({ session_id: decodeJwt(user.accessToken).sid, amr: ['pwd'], acr: 'aal1' });
    expect(JSON.stringify(events)).to.not.include(user.password);
  });

  it('keeps the refresh token working: the session is the same', async () => {
    const user = await signedInUser();
    await reauthenticate(user.accessToken, user.password);
    const refreshed = await call(auth(), 'refreshToken', { refreshToken: user.refreshToken });
    expect(decodeJwt(refreshed.tokens!.accessToken).sid).to.equal(decodeJwt(user.accessToken).sid);
  });

  it('refuses a wrong password on current_password, renews nothing, and audits the attempt', async () => {
    const user = await signedInUser();
    const before = await sessionAssurance(user.accessToken);
    harness().server.clock.advance(700);
    const { metadata, requestId } = traced(user.accessToken);

    await expectRpcError(
      call(auth(), 'reauthenticate', { currentPassword: WRONG, code: '' }, metadata),
      status.INVALID_ARGUMENT,
      {
        reason: 'INVALID_CREDENTIALS',
        fields: ['current_password'],
      },
    );

    expect(await sessionAssurance(user.accessToken)).to.deep.equal(before);
    const events = await auditEventsOfRequest(requestId);
    expect(events.map((e) => [e.type, e.metadata])).to.deep.equal([['reauthentication.failed', { operation: 'reauthenticate' }]]);
    expect(JSON.stringify(events)).to.not.include(WRONG);
  });

  it('validates its input, naming the fields', async () => {
    const user = await signedInUser();
    await expectRpcError(reauthenticate(user.accessToken, ''), status.INVALID_ARGUMENT, { fields: ['current_password'] });
    await expectRpcError(reauthenticate(user.accessToken, user.password, '12ab56'), status.INVALID_ARGUMENT, {
      fields: ['code'],
    });
    // Nothing counts that was not checked: a code for an account without a factor is refused, not ignored.
    await expectRpcError(reauthenticate(user.accessToken, user.password, VALID_CODE), status.INVALID_ARGUMENT, {
      fields: ['code'],
    });
  });

  it('counts every wrong password with Login: the account locks, even the right password is then refused', async () => {
    const user = await signedInUser();
    for (let i = 0; i < MAX_FAILURES; i++) {
      await expectRpcError(reauthenticate(user.accessToken, WRONG), status.INVALID_ARGUMENT, { reason: 'INVALID_CREDENTIALS' });
    }
    await expectRpcError(reauthenticate(user.accessToken, user.password), status.RESOURCE_EXHAUSTED, {
      reason: 'TOO_MANY_ATTEMPTS',
    });
    await expectRpcError(call(auth(), 'login', { email: user.email, password: user.password }), status.RESOURCE_EXHAUSTED, {
      reason: 'TOO_MANY_ATTEMPTS',
    });
  });

  it('counts wrong codes behind the right password: knowing the password does not reset the count', async () => {
    const { factors, restore } = standInSecondFactors();
    try {
      const user = await signedInUser();
      factors.enrolled.add(user.user!.id);
      for (let i = 0; i < MAX_FAILURES; i++) {
        await expectRpcError(reauthenticate(user.accessToken, user.password, '000000'), status.INVALID_ARGUMENT, {
          fields: ['code'],
        });
      }
      await expectRpcError(reauthenticate(user.accessToken, user.password, VALID_CODE), status.RESOURCE_EXHAUSTED, {
        reason: 'TOO_MANY_ATTEMPTS',
      });
      expect(factors.checked).to.equal(MAX_FAILURES);
    } finally {
      restore();
    }
  });

  it("renews only the session of the token presented: the user's other session stays stale", async () => {
    const user = await signedInUser();
    const other = await call(auth(), 'login', { email: user.email, password: user.password });
    harness().server.clock.advance(601);

    const fresh = await reauthenticate(other.tokens!.accessToken, user.password);

    expect(decodeJwt(fresh.accessToken).sid).to.equal(decodeJwt(other.tokens!.accessToken).sid);
    expect((await sessionAssurance(user.accessToken)).authenticated_at.getTime()).to.be.below(fresh.authTime!.getTime());
    await expectRpcError(changePassword(user.accessToken, user.password), status.UNAUTHENTICATED, {
      reason: 'REAUTHENTICATION_REQUIRED',
    });
  });

  it('refuses the token of an ended session', async () => {
    const user = await signedInUser();
    await call(auth(), 'logout', { refreshToken: user.refreshToken });
    await expectRpcError(reauthenticate(user.accessToken, user.password), status.UNAUTHENTICATED, {
      reason: 'SESSION_REVOKED',
    });
  });

  it('refuses a service account, which has no password to present', async () => {
    const admin = await serviceAccountKey(Role.ROLE_ADMIN);
    await expectRpcError(reauthenticate(admin.apiKey, 'anything at all'), status.PERMISSION_DENIED, {
      reason: 'PERMISSION_DENIED',
    });
  });

  it('serves several calls on one session at once: each succeeds, the session keeps one of their times', async () => {
    const user = await signedInUser();
    harness().server.clock.advance(601);

    const results = await Promise.all(Array.from({ length: 5 }, () => reauthenticate(user.accessToken, user.password)));

    const sid = decodeJwt(user.accessToken).sid;
    expect(results.map((r) => decodeJwt(r.accessToken).sid)).to.deep.equal(Array(5).fill(sid));
    expect(new Set(results.map((r) => r.accessToken)).size).to.equal(5);
    const stored = await sessionAssurance(user.accessToken);
    expect(results.map((r) => r.authTime!.getTime())).to.include(stored.authenticated_at.getTime());
    const [{ n }] = await sql<{ n: string }>(
      `select count(*) as n from audit_events where type = 'reauthentication.succeeded' and subject_user_id = $1`,
      [user.user!.id],
    );
    expect(n).to.equal('5');
    await changePassword(results[0].accessToken, user.password);
  });
});
