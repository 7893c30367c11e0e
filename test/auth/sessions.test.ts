import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { decodeJwt } from 'jose';
import { signedInUser, sql } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, call } from '../helpers/server.js';

const auth = () => harness().server.auth;
const list = (accessToken: string, page: { pageSize?: number; pageToken?: string } = {}) =>
  call(auth(), 'listSessions', { pageSize: page.pageSize ?? 0, pageToken: page.pageToken ?? '' }, bearer(accessToken));
const revoke = (accessToken: string, sessionId: string) => call(auth(), 'revokeSession', { sessionId }, bearer(accessToken));
const revokeAll = (accessToken: string, keepCurrent = false) =>
  call(auth(), 'revokeAllSessions', { keepCurrent }, bearer(accessToken));
const getProfile = (accessToken: string) => call(harness().server.profile, 'getProfile', { userId: '' }, bearer(accessToken));
const sidOf = (accessToken: string) => decodeJwt(accessToken).sid as string;

describe('AuthService.ListSessions', () => {
  it("lists the caller's open sessions, newest first, with times, IP, user agent and the current flag", async () => {
    const user = await signedInUser();
    const second = await call(auth(), 'login', { email: user.email, password: user.password });

    const { sessions, nextPageToken } = await list(user.accessToken);

    expect(sessions.map((s) => s.id)).to.deep.equal([sidOf(second.tokens!.accessToken), sidOf(user.accessToken)]);
    expect(nextPageToken).to.equal('');
    const [newest, oldest] = sessions;
    expect(oldest.current).to.equal(true);
    expect(newest.current).to.equal(false);
    expect(newest.ipAddress).to.equal('127.0.0.1');
    expect(newest.userAgent, 'the user agent grpc-js sends').to.include('grpc-node-js');
    for (const s of sessions) {
      expect(s.createdAt).to.be.instanceOf(Date);
      expect(s.lastUsedAt!.getTime()).to.be.at.least(s.createdAt!.getTime());
      expect(s.expiresAt!.getTime()).to.be.greaterThan(Date.now());
    }
  });

  it('leaves out ended sessions and those of other users', async () => {
    const user = await signedInUser();
    const ended = await call(auth(), 'login', { email: user.email, password: user.password });
    await call(auth(), 'logout', { refreshToken: ended.tokens!.refreshToken });
    await signedInUser();

    const { sessions } = await list(user.accessToken);

    expect(sessions.map((s) => s.id)).to.deep.equal([sidOf(user.accessToken)]);
  });

  it('pages with page_size and page_token', async () => {
    const user = await signedInUser();
    for (let i = 0; i < 2; i++) await call(auth(), 'login', { email: user.email, password: user.password });

    const first = await list(user.accessToken, { pageSize: 2 });
    const second = await list(user.accessToken, { pageSize: 2, pageToken: first.nextPageToken });

    expect(first.sessions).to.have.length(2);
    expect(first.nextPageToken).to.not.equal('');
    expect(second.sessions).to.have.length(1);
    expect(second.nextPageToken).to.equal('');
    expect(second.sessions[0].current).to.equal(true);
  });

  it('refuses a bad page_size or page_token naming the field', async () => {
    const user = await signedInUser();
    await expectRpcError(list(user.accessToken, { pageSize: 101 }), status.INVALID_ARGUMENT, { fields: ['page_size'] });
    await expectRpcError(list(user.accessToken, { pageToken: 'bm90LWEtdG9rZW4' }), status.INVALID_ARGUMENT, {
      fields: ['page_token'],
    });
  });

  it('needs an access token', async () => {
    await expectRpcError(call(auth(), 'listSessions', { pageSize: 0, pageToken: '' }), status.UNAUTHENTICATED, {
      reason: 'MISSING_CREDENTIALS',
    });
  });
});

describe('AuthService.RevokeSession', () => {
  it('ends one session: its access and refresh tokens stop working, the others keep working', async () => {
    const user = await signedInUser();
    const other = await call(auth(), 'login', { email: user.email, password: user.password });

    await revoke(user.accessToken, sidOf(other.tokens!.accessToken));

    await expectRpcError(getProfile(other.tokens!.accessToken), status.UNAUTHENTICATED, { reason: 'SESSION_REVOKED' });
    await expectRpcError(call(auth(), 'refreshToken', { refreshToken: other.tokens!.refreshToken }), status.UNAUTHENTICATED);
    await getProfile(user.accessToken);
  });

  it("answers another user's session like a missing one, and leaves it open", async () => {
    const user = await signedInUser();
    const stranger = await signedInUser();

    await expectRpcError(revoke(user.accessToken, sidOf(stranger.accessToken)), status.NOT_FOUND, {
      reason: 'SESSION_NOT_FOUND',
    });
    await expectRpcError(revoke(user.accessToken, '0190a000-0000-7000-8000-000000000000'), status.NOT_FOUND, {
      reason: 'SESSION_NOT_FOUND',
    });
    await getProfile(stranger.accessToken);
  });

  it('refuses a session_id that is not a UUID', async () => {
    const user = await signedInUser();
    await expectRpcError(revoke(user.accessToken, 'nope'), status.INVALID_ARGUMENT, { fields: ['session_id'] });
  });

  it('can end the current session, and records session.revoked once', async () => {
    const user = await signedInUser();
    const sid = sidOf(user.accessToken);

    await revoke(user.accessToken, sid);
    await expectRpcError(getProfile(user.accessToken), status.UNAUTHENTICATED, { reason: 'SESSION_REVOKED' });

    const events = await sql<{ metadata: Record<string, unknown> }>(
      `select metadata from audit_events where type = 'session.revoked' and subject_user_id = $1`,
      [user.user!.id],
    );
    expect(events).to.have.length(1);
    expect(events[0].metadata).to.deep.equal({ session_id: sid, reason: 'user_revoked' });
  });
});

describe('AuthService.RevokeAllSessions', () => {
  it('signs the caller out everywhere, this session included', async () => {
    const user = await signedInUser();
    const other = await call(auth(), 'login', { email: user.email, password: user.password });

    const res = await revokeAll(user.accessToken);

    expect(res.sessionsRevoked).to.equal(2);
    for (const token of [user.accessToken, other.tokens!.accessToken]) {
      await expectRpcError(getProfile(token), status.UNAUTHENTICATED, { reason: 'SESSION_REVOKED' });
    }
  });

  it('keeps the current session with keep_current, and records sessions.revoked_all', async () => {
    const user = await signedInUser();
    const other = await call(auth(), 'login', { email: user.email, password: user.password });
    const stranger = await signedInUser();

    const res = await revokeAll(user.accessToken, true);

    expect(res.sessionsRevoked).to.equal(1);
    await getProfile(user.accessToken);
    await getProfile(stranger.accessToken);
    await expectRpcError(getProfile(other.tokens!.accessToken), status.UNAUTHENTICATED, { reason: 'SESSION_REVOKED' });
    const [event] = await sql<{ metadata: Record<string, unknown> }>(
      `select metadata from audit_events where type = 'sessions.revoked_all' and subject_user_id = $1`,
      [user.user!.id],
    );
    const { not_before: notBefore, ...rest } = event.metadata;
    expect(rest).to.deep.equal({ reason: 'revoked_all', sessions_revoked: 1, kept_session_id: sidOf(user.accessToken) });
    expect(Date.parse(String(notBefore))).to.be.within(Date.now() - 10_000, Date.now() + 1000);
  });
});
