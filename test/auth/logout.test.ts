import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { decodeJwt } from 'jose';
import { signedInUser, sql } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, call } from '../helpers/server.js';

function logout(refreshToken: string) {
  return call(harness().server.auth, 'logout', { refreshToken });
}

function refresh(refreshToken: string) {
  return call(harness().server.auth, 'refreshToken', { refreshToken });
}

function getOwnProfile(accessToken: string) {
  return call(harness().server.profile, 'getProfile', { userId: '' }, bearer(accessToken));
}

describe('AuthService.Logout', () => {
  it('ends the session: its refresh token no longer refreshes', async () => {
    const signedIn = await signedInUser();

    await logout(signedIn.refreshToken);

    await expectRpcError(refresh(signedIn.refreshToken), status.UNAUTHENTICATED, { reason: 'INVALID_REFRESH_TOKEN' });
  });

  it('marks the session revoked with reason logout', async () => {
    const signedIn = await signedInUser();

    await logout(signedIn.refreshToken);

    const [session] = await sql<{ revoked_at: Date | null; revoke_reason: string | null }>(
      'select revoked_at, revoke_reason from sessions where id = $1',
      [decodeJwt(signedIn.accessToken).sid],
    );
    expect(session.revoked_at).to.be.instanceOf(Date);
    expect(session.revoke_reason).to.equal('logout');
  });

  it('succeeds again for a session that already ended', async () => {
    const signedIn = await signedInUser();

    await logout(signedIn.refreshToken);
    await logout(signedIn.refreshToken);
  });

  it('succeeds for a refresh token it never issued', async () => {
    await logout('tsr_this-token-was-never-issued');
  });

  it('rejects the access tokens of the ended session with SESSION_REVOKED', async () => {
    const signedIn = await signedInUser();
    await getOwnProfile(signedIn.accessToken);

    await logout(signedIn.refreshToken);

    await expectRpcError(getOwnProfile(signedIn.accessToken), status.UNAUTHENTICATED, { reason: 'SESSION_REVOKED' });
  });

  it('leaves the other sessions of the same user working', async () => {
    const signedIn = await signedInUser();
    const other = await call(harness().server.auth, 'login', { email: signedIn.email, password: signedIn.password });

    await logout(signedIn.refreshToken);

    const { profile } = await getOwnProfile(other.tokens!.accessToken);
    expect(profile!.userId).to.equal(signedIn.user!.id);
    await refresh(other.tokens!.refreshToken);
  });

  it('ends the session reached through a rotated refresh token', async () => {
    const signedIn = await signedInUser();
    const { tokens } = await refresh(signedIn.refreshToken);

    await logout(tokens!.refreshToken);

    await expectRpcError(getOwnProfile(tokens!.accessToken), status.UNAUTHENTICATED, { reason: 'SESSION_REVOKED' });
    await expectRpcError(refresh(tokens!.refreshToken), status.UNAUTHENTICATED, { reason: 'INVALID_REFRESH_TOKEN' });
  });

  it('refuses an empty refresh_token with INVALID_ARGUMENT naming refresh_token', async () => {
    await expectRpcError(logout(''), status.INVALID_ARGUMENT, { fields: ['refresh_token'] });
  });

  it('records one session.logged_out audit event, not one per repeated call', async () => {
    const signedIn = await signedInUser();
    const userId = signedIn.user!.id;

    await logout(signedIn.refreshToken);
    await logout(signedIn.refreshToken);

    const events = await sql<{ actor_id: string; metadata: Record<string, unknown> }>(
      "select actor_id, metadata from audit_events where type = 'session.logged_out' and subject_user_id = $1",
      [userId],
    );
    expect(events).to.have.length(1);
    expect(events[0].actor_id).to.equal(userId);
    expect(events[0].metadata).to.deep.equal({ session_id: decodeJwt(signedIn.accessToken).sid });
  });
});
