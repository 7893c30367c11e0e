import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { decodeJwt } from 'jose';
import { signedInUser, sql } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, call } from '../helpers/server.js';

const NEW_PASSWORD = 'a freshly changed passphrase';
const auth = () => harness().server.auth;
const changePassword = (accessToken: string, currentPassword: string, newPassword = NEW_PASSWORD) =>
  call(auth(), 'changePassword', { currentPassword, newPassword }, bearer(accessToken));
const login = (email: string, password: string) => call(auth(), 'login', { email, password });
const sidOf = (accessToken: string) => decodeJwt(accessToken).sid as string;
const getProfile = (accessToken: string) => call(harness().server.profile, 'getProfile', { userId: '' }, bearer(accessToken));

describe('AuthService.ChangePassword', () => {
  it('replaces the password: the new one signs in, the old one no longer does', async () => {
    const user = await signedInUser();

    await changePassword(user.accessToken, user.password);

    await login(user.email, NEW_PASSWORD);
    await expectRpcError(login(user.email, user.password), status.UNAUTHENTICATED, { reason: 'INVALID_CREDENTIALS' });
  });

  it('ends the other sessions and keeps the calling one', async () => {
    const user = await signedInUser();
    const other = await login(user.email, user.password);

    const res = await changePassword(user.accessToken, user.password);

    expect(res.sessionsRevoked).to.equal(1);
    await getProfile(user.accessToken);
    await call(auth(), 'refreshToken', { refreshToken: user.refreshToken });
    await expectRpcError(getProfile(other.tokens!.accessToken), status.UNAUTHENTICATED, { reason: 'SESSION_REVOKED' });
  });

  it('refuses a wrong current password, changes nothing, and audits the attempt', async () => {
    const user = await signedInUser();

    await expectRpcError(changePassword(user.accessToken, 'not the password'), status.INVALID_ARGUMENT, {
      reason: 'INVALID_CREDENTIALS',
      fields: ['current_password'],
    });

    await login(user.email, user.password);
    const [event] = await sql<{ metadata: Record<string, unknown> }>(
      `select metadata from audit_events where type = 'reauthentication.failed' and subject_user_id = $1`,
      [user.user!.id],
    );
    expect(event.metadata).to.deep.equal({ operation: 'change_password' });
  });

  it('applies the password policy to the new password', async () => {
    const user = await signedInUser();
    await expectRpcError(changePassword(user.accessToken, user.password, 'iloveyou'), status.INVALID_ARGUMENT, {
      fields: ['new_password'],
    });
    await expectRpcError(changePassword(user.accessToken, user.password, user.email), status.INVALID_ARGUMENT, {
      fields: ['new_password'],
    });
    await expectRpcError(changePassword(user.accessToken, '', NEW_PASSWORD), status.INVALID_ARGUMENT, {
      fields: ['current_password'],
    });
  });

  it('needs an access token', async () => {
    await expectRpcError(
      call(auth(), 'changePassword', { currentPassword: 'x', newPassword: NEW_PASSWORD }),
      status.UNAUTHENTICATED,
    );
  });

  it('records password.changed and sessions.revoked_all keeping the caller, and no password', async () => {
    const user = await signedInUser();
    await login(user.email, user.password);
    await changePassword(user.accessToken, user.password);

    const events = await sql<{ type: string; metadata: Record<string, unknown> }>(
      `select type, metadata from audit_events
        where type in ('password.changed', 'sessions.revoked_all') and subject_user_id = $1 order by id`,
      [user.user!.id],
    );
    expect(events.map((e) => e.type)).to.deep.equal(['sessions.revoked_all', 'password.changed']);
    expect(events[1].metadata).to.deep.equal({ sessions_revoked: 1 });
    const { not_before: notBefore, ...rest } = events[0].metadata;
    expect(rest).to.deep.equal({ reason: 'password_changed', sessions_revoked: 1, kept_session_id: sidOf(user.accessToken) });
    expect(Date.parse(String(notBefore))).to.be.within(Date.now() - 10_000, Date.now() + 1000);
  });
});
