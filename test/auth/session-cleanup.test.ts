import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { decodeJwt } from 'jose';
import { signedInUser, sql } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { retentionJobOn } from '../helpers/retention.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, call } from '../helpers/server.js';

/** The shared server's REFRESH_REUSE_GRACE_SECONDS (the default). */
const GRACE_SECONDS = 10;

const refresh = (refreshToken: string) => call(harness().server.auth, 'refreshToken', { refreshToken });

/**
 * The session-secret steps of the retention job (which absorbed the former
 * cleanup job) on the shared server: every other window is ten years away.
 */
const cleanupJob = () => {
  const job = retentionJobOn(harness().server, { refreshReuseGraceSeconds: GRACE_SECONDS });
  return {
    runOnce: async () => {
      const counts = (await job.runOnce())!;
      return { successorsCleared: counts.refresh_successors_cleared, historyPruned: counts.refresh_history_pruned };
    },
  };
};

async function sessionRow(sessionId: string) {
  const [row] = await sql<{ successor_ciphertext: string | null; revoked_at: Date | null }>(
    'select successor_ciphertext, revoked_at from sessions where id = $1',
    [sessionId],
  );
  return row;
}

const historyOf = (sessionId: string) =>
  sql<{ token_hash: string }>('select token_hash from refresh_token_history where session_id = $1', [sessionId]);

describe('Session cleanup (steps of the retention job)', () => {
  afterEach(() => harness().server.clock.reset());

  it('clears the successor kept for the grace window once the window ended, not before', async () => {
    const signedIn = await signedInUser();
    const sessionId = String(decodeJwt(signedIn.accessToken).sid);
    const { tokens } = await refresh(signedIn.refreshToken);

    await cleanupJob().runOnce();
    expect((await sessionRow(sessionId)).successor_ciphertext, 'inside the window').to.match(/^v1\./);
    // Inside the window a retry still gets the same successor.
    expect((await refresh(signedIn.refreshToken)).tokens!.refreshToken).to.equal(tokens!.refreshToken);

    harness().server.clock.advance(GRACE_SECONDS + 1);
    const { successorsCleared } = await cleanupJob().runOnce();

    expect(successorsCleared).to.be.at.least(1);
    expect((await sessionRow(sessionId)).successor_ciphertext, 'after the window').to.equal(null);
    // The session itself lives on: its current token still rotates, and keeps a fresh successor.
    const next = await refresh(tokens!.refreshToken);
    expect((await sessionRow(sessionId)).successor_ciphertext).to.match(/^v1\./);
    expect(next.tokens!.refreshToken).to.not.equal(tokens!.refreshToken);
  });

  it('after the window, the replayed token is reuse whether or not the job already ran', async () => {
    const signedIn = await signedInUser();
    const sessionId = String(decodeJwt(signedIn.accessToken).sid);
    await refresh(signedIn.refreshToken);
    harness().server.clock.advance(GRACE_SECONDS + 1);
    await cleanupJob().runOnce();

    await expectRpcError(refresh(signedIn.refreshToken), status.UNAUTHENTICATED, { reason: 'REFRESH_TOKEN_REUSED' });
    expect((await sessionRow(sessionId)).revoked_at).to.not.equal(null);
  });

  it('deletes the rotated-out token hashes of sessions that ended, and keeps those of live sessions', async () => {
    const ended = await signedInUser();
    const endedId = String(decodeJwt(ended.accessToken).sid);
    const endedNext = await refresh(ended.refreshToken);
    await call(harness().server.auth, 'revokeSession', { sessionId: endedId }, bearer(endedNext.tokens!.accessToken));
    const live = await signedInUser();
    const liveId = String(decodeJwt(live.accessToken).sid);
    await refresh(live.refreshToken);
    expect(await historyOf(endedId)).to.have.length(1);

    const { historyPruned } = await cleanupJob().runOnce();

    expect(historyPruned).to.be.at.least(1);
    expect(await historyOf(endedId), 'the ended session').to.deep.equal([]);
    expect(await historyOf(liveId), 'the live session').to.have.length(1);
  });

  it('deletes the history of a session that expired without being revoked', async () => {
    const signedIn = await signedInUser();
    const sessionId = String(decodeJwt(signedIn.accessToken).sid);
    await refresh(signedIn.refreshToken);
    harness().server.clock.advance(31 * 24 * 3600);

    await cleanupJob().runOnce();

    expect(await historyOf(sessionId)).to.deep.equal([]);
  });
});
