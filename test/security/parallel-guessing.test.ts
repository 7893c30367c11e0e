import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { DEFAULT_PASSWORD, registerUser, sqlOn, uniqueEmail } from '../helpers/fixtures.js';
import { expectLimited, outcomesOf } from '../helpers/outcomes.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { call, startSiblingServer, type TestServer } from '../helpers/server.js';

const MAX_FAILURES = 5;
const GUESSES = 60;

/** Attack 2 of issue 9: many wrong passwords in flight at once must not each get a hash check. */
describe('Attack: parallel password guessing against one account', function () {
  this.timeout(60_000);
  let server: TestServer;

  before(async () => {
    server = await startSiblingServer({
      LOGIN_MAX_FAILURES_PER_ACCOUNT: String(MAX_FAILURES),
      // Every guess waits for its hash rather than being turned away as busy.
      PASSWORD_HASH_QUEUE_TIMEOUT_MS: '60000',
    });
  });

  after(() => server.close());

  const login = (email: string, password: string) => call(server.auth, 'login', { email, password });
  const guesses = (email: string) => Array.from({ length: GUESSES }, (_, i) => login(email, `wrong guess number ${i}`));

  it(`checks at most ${MAX_FAILURES} of ${GUESSES} concurrent wrong passwords, then refuses the right one`, async () => {
    const { email, user } = await registerUser({ server });

    const outcomes = await outcomesOf(guesses(email));

    expectLimited(outcomes, 'UNAUTHENTICATED/INVALID_CREDENTIALS', 'RESOURCE_EXHAUSTED/TOO_MANY_ATTEMPTS', MAX_FAILURES);
    const [{ checked }] = await sqlOn<{ checked: number }>(
      server,
      `select count(*)::int as checked from audit_events
        where type = 'login.failed' and subject_user_id = $1 and metadata->>'reason' = 'wrong_password'`,
      [user.id],
    );
    expect(checked, 'login.failed events with reason wrong_password').to.be.at.most(MAX_FAILURES);
    await expectRpcError(login(email, DEFAULT_PASSWORD), status.RESOURCE_EXHAUSTED, { reason: 'TOO_MANY_ATTEMPTS' });
  });

  it('limits concurrent guesses at an unknown address the same way, so the limit reveals nothing', async () => {
    const outcomes = await outcomesOf(guesses(uniqueEmail('ghost')));

    expectLimited(outcomes, 'UNAUTHENTICATED/INVALID_CREDENTIALS', 'RESOURCE_EXHAUSTED/TOO_MANY_ATTEMPTS', MAX_FAILURES);
  });
});
