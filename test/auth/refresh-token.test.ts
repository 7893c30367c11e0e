import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { decodeJwt } from 'jose';
import { signedInUser, sql } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, call } from '../helpers/server.js';

const REFRESH_TTL_SECONDS = 30 * 24 * 3600;
/** REFRESH_REUSE_GRACE_SECONDS's default, which the shared test server uses. */
const REUSE_GRACE_SECONDS = 10;

function refresh(refreshToken: string) {
  return call(harness().server.auth, 'refreshToken', { refreshToken });
}

function getOwnProfile(accessToken: string) {
  return call(harness().server.profile, 'getProfile', { userId: '' }, bearer(accessToken));
}

describe('AuthService.RefreshToken', () => {
  afterEach(() => harness().server.clock.reset());

  it('returns a new Bearer pair with a different refresh token for the same session', async () => {
    const signedIn = await signedInUser();

    const { tokens } = await refresh(signedIn.refreshToken);

    expect(tokens!.tokenType).to.equal('Bearer');
    expect(tokens!.refreshToken).to.match(/^tsr_/);
    expect(tokens!.refreshToken).to.not.equal(signedIn.refreshToken);
    expect(tokens!.accessToken).to.not.equal(signedIn.accessToken);
    const before = decodeJwt(signedIn.accessToken);
    const after = decodeJwt(tokens!.accessToken);
    expect(after.sid).to.equal(before.sid);
    expect(after.sub).to.equal(before.sub);
    expect(after.jti).to.not.equal(before.jti);
  });

  it('stops accepting the rotated refresh token once the reuse grace window has passed', async () => {
    const signedIn = await signedInUser();
    await refresh(signedIn.refreshToken);
    harness().server.clock.advance(REUSE_GRACE_SECONDS + 1);

    await expectRpcError(refresh(signedIn.refreshToken), status.UNAUTHENTICATED, { reason: 'REFRESH_TOKEN_REUSED' });
  });

  it('keeps accepting the successor of a rotated refresh token', async () => {
    const signedIn = await signedInUser();
    const first = await refresh(signedIn.refreshToken);

    const second = await refresh(first.tokens!.refreshToken);

    expect(second.tokens!.refreshToken).to.not.equal(first.tokens!.refreshToken);
  });

  it('issues an access token that ProfileService.GetProfile accepts', async () => {
    const signedIn = await signedInUser({ fullName: 'Grace Hopper' });

    const { tokens } = await refresh(signedIn.refreshToken);
    const { profile } = await getOwnProfile(tokens!.accessToken);

    expect(profile!.userId).to.equal(signedIn.user!.id);
    expect(profile!.fullName).to.equal('Grace Hopper');
  });

  it('refuses a refresh token whose session is older than 30 days', async () => {
    const signedIn = await signedInUser();

    harness().server.clock.advance(REFRESH_TTL_SECONDS + 60);

    await expectRpcError(refresh(signedIn.refreshToken), status.UNAUTHENTICATED, { reason: 'INVALID_REFRESH_TOKEN' });
  });

  it('refuses the refresh token of an account that is no longer active', async () => {
    const signedIn = await signedInUser();
    await sql(`update users set status = 'suspended' where id = $1`, [signedIn.user!.id]);

    await expectRpcError(refresh(signedIn.refreshToken), status.UNAUTHENTICATED, { reason: 'INVALID_REFRESH_TOKEN' });
  });

  it('refuses a refresh token it never issued', async () => {
    await expectRpcError(refresh('tsr_this-token-was-never-issued'), status.UNAUTHENTICATED, {
      reason: 'INVALID_REFRESH_TOKEN',
    });
  });

  it('refuses an empty refresh_token with INVALID_ARGUMENT naming refresh_token', async () => {
    await expectRpcError(refresh(''), status.INVALID_ARGUMENT, { fields: ['refresh_token'] });
  });

  it('records a token.refreshed audit event naming the session', async () => {
    const signedIn = await signedInUser();
    const userId = signedIn.user!.id;

    await refresh(signedIn.refreshToken);

    const events = await sql<{ actor_id: string; metadata: Record<string, unknown> }>(
      "select actor_id, metadata from audit_events where type = 'token.refreshed' and subject_user_id = $1",
      [userId],
    );
    expect(events).to.have.length(1);
    expect(events[0].actor_id).to.equal(userId);
    expect(events[0].metadata).to.deep.equal({ session_id: decodeJwt(signedIn.accessToken).sid });
  });
});
