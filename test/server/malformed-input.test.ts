import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { Profile } from '../../src/gen/tessera/v1/profile.js';
import { signedInUser } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, BOOTSTRAP_ADMIN, call } from '../helpers/server.js';

/** `{ d: { d: ... 'leaf' } }`, `depth` objects deep. */
function nested(depth: number): Record<string, unknown> {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = { d: value };
  return value as Record<string, unknown>;
}

const updatePreferences = (accessToken: string, preferences: Record<string, unknown>) =>
  call(
    harness().server.profile,
    'updateProfile',
    { profile: Profile.fromPartial({ preferences }), updateMask: ['preferences'] },
    bearer(accessToken),
  );

/** Bad input of any shape is answered INVALID_ARGUMENT naming the field, before anything else looks at it. */
describe('malformed input on any RPC', () => {
  it('refuses a JSON field nested deeper than the decoder allows as INVALID_ARGUMENT, not INTERNAL', async () => {
    const { accessToken } = await signedInUser();
    await expectRpcError(updatePreferences(accessToken, nested(40)), status.INVALID_ARGUMENT, {
      reason: 'MALFORMED_REQUEST',
      fields: ['profile.preferences'],
    });
    await updatePreferences(accessToken, nested(7));
  });

  it('refuses a JSON field over its size bound, naming it', async () => {
    const { accessToken } = await signedInUser();
    await expectRpcError(updatePreferences(accessToken, { big: 'x'.repeat(70_000) }), status.INVALID_ARGUMENT, {
      fields: ['profile.preferences'],
    });
  });

  it("refuses a NUL in an administrator's filter, and in a user_id even before authentication", async () => {
    const admin = await call(harness().server.auth, 'login', BOOTSTRAP_ADMIN);
    const md = bearer(admin.tokens!.accessToken);
    await expectRpcError(
      call(
        harness().server.identity,
        'listUsers',
        { pageSize: 0, pageToken: '', filter: 'email = "a\u0000"', showDeleted: false },
        md,
      ),
      status.INVALID_ARGUMENT,
      {
        fields: ['filter'],
      },
    );
    await expectRpcError(
      call(harness().server.identity, 'suspendUser', { userId: '\u0000', reason: 'spam' }),
      status.INVALID_ARGUMENT,
      { fields: ['user_id'] },
    );
  });

  it('refuses an oversized token with INVALID_ARGUMENT naming it, in milliseconds of server time', async () => {
    const server = harness().server;
    const before = server.logs.lines.length;
    await expectRpcError(call(server.auth, 'refreshToken', { refreshToken: '\uFDFA'.repeat(40_000) }), status.INVALID_ARGUMENT, {
      fields: ['refresh_token'],
    });
    const line = server.logs.lines
      .slice(before)
      .map((l) => JSON.parse(l) as { method?: string; ms?: number })
      .find((l) => l.method?.endsWith('/RefreshToken') && l.ms !== undefined);
    expect(line?.ms).to.be.below(50);
  });
});
