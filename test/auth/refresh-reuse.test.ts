import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { decodeJwt } from 'jose';
import { signedInUser, sql } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { call } from '../helpers/server.js';

/** The shared server's REFRESH_REUSE_GRACE_SECONDS (the default). */
const GRACE_SECONDS = 10;

const refresh = (refreshToken: string) => call(harness().server.auth, 'refreshToken', { refreshToken });
const introspect = (token: string) => call(harness().server.auth, 'introspectToken', { token });

describe('Refresh token reuse detection (RFC 9700)', () => {
  afterEach(() => harness().server.clock.reset());

  it('revokes the whole session when a rotated token is replayed after the grace window', async () => {
    const signedIn = await signedInUser();
    const { tokens } = await refresh(signedIn.refreshToken);
    harness().server.clock.advance(GRACE_SECONDS + 1);

    await expectRpcError(refresh(signedIn.refreshToken), status.UNAUTHENTICATED, { reason: 'REFRESH_TOKEN_REUSED' });

    // The legitimate holder's successor dies too, and so do the session's access tokens.
    await expectRpcError(refresh(tokens!.refreshToken), status.UNAUTHENTICATED, { reason: 'INVALID_REFRESH_TOKEN' });
    expect((await introspect(tokens!.accessToken)).active).to.equal(false);
    expect((await introspect(signedIn.accessToken)).active).to.equal(false);
    const [session] = await sql<{ revoke_reason: string }>('select revoke_reason from sessions where id = $1', [
      decodeJwt(signedIn.accessToken).sid,
    ]);
    expect(session.revoke_reason).to.equal('refresh_token_reuse');
  });

  it('records refresh_token.reuse_detected for the user, without any token', async () => {
    const signedIn = await signedInUser();
    const { tokens } = await refresh(signedIn.refreshToken);
    harness().server.clock.advance(GRACE_SECONDS + 5);
    await expectRpcError(refresh(signedIn.refreshToken), status.UNAUTHENTICATED);

    const events = await sql<{ actor_type: string; metadata: Record<string, unknown> }>(
      `select actor_type, metadata from audit_events where type = 'refresh_token.reuse_detected' and subject_user_id = $1`,
      [signedIn.user!.id],
    );
    expect(events).to.have.length(1);
    expect(events[0].actor_type).to.equal('anonymous');
    expect(events[0].metadata).to.include({ session_id: decodeJwt(signedIn.accessToken).sid });
    const text = JSON.stringify(events);
    expect(text).to.not.include(signedIn.refreshToken).and.not.include(tokens!.refreshToken);
  });

  it('answers a replay within the grace window with the same successor, keeping the session', async () => {
    const signedIn = await signedInUser();
    const first = await refresh(signedIn.refreshToken);
    harness().server.clock.advance(GRACE_SECONDS - 2);

    const replay = await refresh(signedIn.refreshToken);

    expect(replay.tokens!.refreshToken).to.equal(first.tokens!.refreshToken);
    expect(replay.tokens!.accessToken).to.not.equal(first.tokens!.accessToken);
    expect((await introspect(replay.tokens!.accessToken)).active).to.equal(true);
    await refresh(first.tokens!.refreshToken);
  });

  it('lets two concurrent refreshes of the same token both succeed with the same successor', async () => {
    const signedIn = await signedInUser();

    const [a, b] = await Promise.all([refresh(signedIn.refreshToken), refresh(signedIn.refreshToken)]);

    expect(a.tokens!.refreshToken).to.equal(b.tokens!.refreshToken);
    expect(decodeJwt(a.tokens!.accessToken).sid).to.equal(decodeJwt(b.tokens!.accessToken).sid);
    const next = await refresh(a.tokens!.refreshToken);
    expect((await introspect(next.tokens!.accessToken)).active).to.equal(true);
  });

  it('stores the successor for the grace window only encrypted', async () => {
    const signedIn = await signedInUser();
    const { tokens } = await refresh(signedIn.refreshToken);

    const [row] = await sql<Record<string, unknown>>('select * from sessions where id = $1', [
      decodeJwt(signedIn.accessToken).sid,
    ]);

    expect(JSON.stringify(row)).to.not.include(tokens!.refreshToken).and.not.include(signedIn.refreshToken);
    expect(row.successor_ciphertext).to.match(/^v1\./);
  });

  // Issue 9 reversed this case: it used to be refused as unknown, leaving the thief's newest token alive.
  it('revokes the session when a token two rotations old comes back, even within the grace window', async () => {
    const signedIn = await signedInUser();
    const first = await refresh(signedIn.refreshToken);
    const second = await refresh(first.tokens!.refreshToken);

    await expectRpcError(refresh(signedIn.refreshToken), status.UNAUTHENTICATED, { reason: 'REFRESH_TOKEN_REUSED' });
    await expectRpcError(refresh(second.tokens!.refreshToken), status.UNAUTHENTICATED, { reason: 'INVALID_REFRESH_TOKEN' });
  });

  it('keeps only hashes of the rotated-out tokens, and forgets them once the session ended', async () => {
    const signedIn = await signedInUser();
    const sessionId = String(decodeJwt(signedIn.accessToken).sid);
    const first = await refresh(signedIn.refreshToken);
    await refresh(first.tokens!.refreshToken);
    const history = () => sql<Record<string, unknown>>('select * from refresh_token_history where session_id = $1', [sessionId]);

    const rows = await history();
    expect(rows).to.have.length(2);
    expect(JSON.stringify(rows)).to.not.include(signedIn.refreshToken).and.not.include(first.tokens!.refreshToken);

    harness().server.clock.advance(GRACE_SECONDS + 1);
    await expectRpcError(refresh(signedIn.refreshToken), status.UNAUTHENTICATED, { reason: 'REFRESH_TOKEN_REUSED' });
    expect(await history(), 'the revoked family').to.deep.equal([]);
  });
});

describe('Session lifetime', () => {
  afterEach(() => harness().server.clock.reset());
  const DAY = 24 * 3600;

  it('lapses after the idle timeout (30 days) without a refresh', async () => {
    const signedIn = await signedInUser();
    harness().server.clock.advance(30 * DAY + 1);

    await expectRpcError(refresh(signedIn.refreshToken), status.UNAUTHENTICATED, { reason: 'INVALID_REFRESH_TOKEN' });
  });

  it('never lasts past the absolute lifetime (90 days), however often it is refreshed', async () => {
    const signedIn = await signedInUser();
    let token = signedIn.refreshToken;
    let expiresAt: Date | undefined;
    for (const day of [29, 58, 87]) {
      harness().server.clock.reset();
      harness().server.clock.advance(day * DAY);
      const { tokens } = await refresh(token);
      token = tokens!.refreshToken;
      expiresAt = tokens!.refreshTokenExpiresAt;
    }
    const createdAt = new Date(Number(decodeJwt(signedIn.accessToken).iat) * 1000);
    expect(expiresAt!.getTime() - createdAt.getTime()).to.be.within(90 * DAY * 1000 - 2000, 90 * DAY * 1000 + 2000);

    harness().server.clock.reset();
    harness().server.clock.advance(90 * DAY + 1);
    await expectRpcError(refresh(token), status.UNAUTHENTICATED, { reason: 'INVALID_REFRESH_TOKEN' });
  });
});
