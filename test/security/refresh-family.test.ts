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

/**
 * Attack 4 of issue 9: a thief rotates a stolen refresh token more than once,
 * so the victim's token is older than the last rotation. RFC 9700: reuse of
 * any rotated token of the family revokes the session.
 */
describe('Attack: a stolen refresh token rotated past the last generation', () => {
  afterEach(() => harness().server.clock.reset());

  /** Signs in, then rotates `rotations` times as the thief; returns every refresh token in order (RT1 first). */
  async function stolenFamily(rotations: number) {
    const victim = await signedInUser();
    const tokens = [victim.refreshToken];
    let access = victim.accessToken;
    for (let i = 0; i < rotations; i++) {
      const res = await refresh(tokens.at(-1)!);
      tokens.push(res.tokens!.refreshToken);
      access = res.tokens!.accessToken;
    }
    return { victim, tokens, thiefAccess: access, sessionId: String(decodeJwt(victim.accessToken).sid) };
  }

  for (const rotations of [2, 4]) {
    it(`revokes the session when RT1 is presented after ${rotations} rotations and the grace window`, async () => {
      const { victim, tokens, thiefAccess, sessionId } = await stolenFamily(rotations);
      harness().server.clock.advance(GRACE_SECONDS + 1);

      await expectRpcError(refresh(tokens[0]), status.UNAUTHENTICATED);

      const [session] = await sql<{ revoked_at: Date | null }>('select revoked_at from sessions where id = $1', [sessionId]);
      expect(session.revoked_at, 'the session is revoked').to.not.equal(null);
      await expectRpcError(refresh(tokens.at(-1)!), status.UNAUTHENTICATED);
      expect((await introspect(thiefAccess)).active, "the thief's access token").to.equal(false);
      const events = await sql<{ type: string; metadata: Record<string, unknown> }>(
        `select type, metadata from audit_events where subject_user_id = $1
          and type in ('refresh_token.reuse_detected', 'session.revoked') order by id`,
        [victim.user!.id],
      );
      expect(events.map((e) => e.type)).to.not.be.empty;
      expect(JSON.stringify(events), 'the event names the session').to.include(sessionId);
      for (const token of tokens) expect(JSON.stringify(events)).to.not.include(token);
    });
  }

  it('revokes the session when a middle generation (RT2 of RT1..RT4) is presented after the grace window', async () => {
    const { tokens, sessionId } = await stolenFamily(3);
    harness().server.clock.advance(GRACE_SECONDS + 1);

    await expectRpcError(refresh(tokens[1]), status.UNAUTHENTICATED);

    await expectRpcError(refresh(tokens.at(-1)!), status.UNAUTHENTICATED);
    const [session] = await sql<{ revoked_at: Date | null }>('select revoked_at from sessions where id = $1', [sessionId]);
    expect(session.revoked_at).to.not.equal(null);
  });
});
