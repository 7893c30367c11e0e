import { status } from '@grpc/grpc-js';
import { DEFAULT_PASSWORD, signedInUser, uniqueEmail } from '../helpers/fixtures.js';
import { expectLimited, outcomesOf } from '../helpers/outcomes.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, call, startSiblingServer, type TestServer } from '../helpers/server.js';

const MAX_FAILURES = 5;
const GUESSES = 60;
const NEW_PASSWORD = 'the attacker chose this passphrase';

/**
 * Attack 3 of issue 9: with a stolen access token, the current-password check
 * of ChangePassword and RequestEmailChange is an online guessing oracle. It
 * must be counted by the same per-account limiter as Login.
 */
describe('Attack: guessing the current password through re-authentication', function () {
  this.timeout(60_000);
  let server: TestServer;

  before(async () => {
    server = await startSiblingServer({
      LOGIN_MAX_FAILURES_PER_ACCOUNT: String(MAX_FAILURES),
      PASSWORD_HASH_QUEUE_TIMEOUT_MS: '60000',
    });
  });

  after(() => server.close());

  const changePassword = (token: string, currentPassword: string) =>
    call(server.auth, 'changePassword', { currentPassword, newPassword: NEW_PASSWORD }, bearer(token));
  const requestEmailChange = (token: string, currentPassword: string) =>
    call(server.auth, 'requestEmailChange', { newEmail: uniqueEmail('attacker'), currentPassword }, bearer(token));
  const wrong = (i: number) => `wrong guess number ${i}`;

  it(`ChangePassword: checks at most ${MAX_FAILURES} of ${GUESSES} concurrent guesses, then refuses the right password`, async () => {
    const victim = await signedInUser({ server });

    const outcomes = await outcomesOf(Array.from({ length: GUESSES }, (_, i) => changePassword(victim.accessToken, wrong(i))));

    expectLimited(outcomes, 'INVALID_ARGUMENT/INVALID_CREDENTIALS', 'RESOURCE_EXHAUSTED/TOO_MANY_ATTEMPTS', MAX_FAILURES);
    await expectRpcError(changePassword(victim.accessToken, DEFAULT_PASSWORD), status.RESOURCE_EXHAUSTED, {
      reason: 'TOO_MANY_ATTEMPTS',
    });
  });

  it(`RequestEmailChange: checks at most ${MAX_FAILURES} of ${GUESSES} concurrent guesses, then refuses the right password`, async () => {
    const victim = await signedInUser({ server });

    const outcomes = await outcomesOf(
      Array.from({ length: GUESSES }, (_, i) => requestEmailChange(victim.accessToken, wrong(i))),
    );

    expectLimited(outcomes, 'INVALID_ARGUMENT/INVALID_CREDENTIALS', 'RESOURCE_EXHAUSTED/TOO_MANY_ATTEMPTS', MAX_FAILURES);
    await expectRpcError(requestEmailChange(victim.accessToken, DEFAULT_PASSWORD), status.RESOURCE_EXHAUSTED, {
      reason: 'TOO_MANY_ATTEMPTS',
    });
  });

  it('shares one count with Login: guesses spread over Login, ChangePassword and RequestEmailChange lock all three', async () => {
    const victim = await signedInUser({ server });
    for (let i = 0; i < 2; i++) {
      await expectRpcError(call(server.auth, 'login', { email: victim.email, password: wrong(i) }), status.UNAUTHENTICATED);
    }
    for (let i = 2; i < 4; i++) await expectRpcError(changePassword(victim.accessToken, wrong(i)), status.INVALID_ARGUMENT);
    await expectRpcError(requestEmailChange(victim.accessToken, wrong(4)), status.INVALID_ARGUMENT);

    await expectRpcError(
      call(server.auth, 'login', { email: victim.email, password: DEFAULT_PASSWORD }),
      status.RESOURCE_EXHAUSTED,
      {
        reason: 'TOO_MANY_ATTEMPTS',
      },
    );
    await expectRpcError(changePassword(victim.accessToken, DEFAULT_PASSWORD), status.RESOURCE_EXHAUSTED, {
      reason: 'TOO_MANY_ATTEMPTS',
    });
    await expectRpcError(requestEmailChange(victim.accessToken, DEFAULT_PASSWORD), status.RESOURCE_EXHAUSTED, {
      reason: 'TOO_MANY_ATTEMPTS',
    });
  });
});
