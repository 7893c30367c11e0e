import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { DEFAULT_PASSWORD, registerUser, sqlOn, uniqueEmail } from '../helpers/fixtures.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { call, startSiblingServer, type TestServer } from '../helpers/server.js';

const WRONG = 'not the right passphrase';

describe('AuthService.Login: throttling failed attempts', () => {
  let server: TestServer;

  before(async () => {
    server = await startSiblingServer({
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '3',
      LOGIN_MAX_FAILURES_PER_IP: '12',
      LOGIN_FAILURE_WINDOW_SECONDS: '2',
    });
  });

  after(() => server.close());

  const login = (email: string, password: string) => call(server.auth, 'login', { email, password });

  it('refuses an account after too many failures, even with the right password, with RetryInfo', async () => {
    const { email, user } = await registerUser({ server });
    for (let i = 0; i < 3; i++)
      await expectRpcError(login(email, WRONG), status.UNAUTHENTICATED, { reason: 'INVALID_CREDENTIALS' });
    const details = await expectRpcError(login(email, DEFAULT_PASSWORD), status.RESOURCE_EXHAUSTED, {
      reason: 'TOO_MANY_ATTEMPTS',
    });
    const delay = Number(details.retryInfo?.retryDelay?.seconds ?? 0) * 1000 + (details.retryInfo?.retryDelay?.nanos ?? 0) / 1e6;
    expect(delay).to.be.greaterThan(0).and.at.most(2000);
    const events = await sqlOn<{ metadata: { reason: string } }>(
      server,
      `select metadata from audit_events where type = 'login.failed' and subject_user_id = $1 order by id`,
      [user.id],
    );
    expect(events.map((e) => e.metadata.reason)).to.deep.equal([
      'wrong_password',
      'wrong_password',
      'wrong_password',
      'too_many_attempts',
    ]);
  });

  it('treats an unknown email exactly like a known one, so throttling reveals nothing', async () => {
    const ghost = uniqueEmail('ghost');
    for (let i = 0; i < 3; i++)
      await expectRpcError(login(ghost, WRONG), status.UNAUTHENTICATED, { reason: 'INVALID_CREDENTIALS' });
    await expectRpcError(login(ghost, WRONG), status.RESOURCE_EXHAUSTED, { reason: 'TOO_MANY_ATTEMPTS' });
  });

  it('does not hold back other accounts, and lets the account in again after the window', async () => {
    const throttled = await registerUser({ server });
    const other = await registerUser({ server });
    for (let i = 0; i < 3; i++) await expectRpcError(login(throttled.email, WRONG), status.UNAUTHENTICATED);
    await expectRpcError(login(throttled.email, DEFAULT_PASSWORD), status.RESOURCE_EXHAUSTED);
    await login(other.email, DEFAULT_PASSWORD);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const res = await login(throttled.email, DEFAULT_PASSWORD);
    expect(res.user?.id).to.equal(throttled.user.id);
  });

  it('clears the count of an account on a successful sign-in', async () => {
    const { email } = await registerUser({ server });
    for (let i = 0; i < 2; i++) await expectRpcError(login(email, WRONG), status.UNAUTHENTICATED);
    await login(email, DEFAULT_PASSWORD);
    for (let i = 0; i < 2; i++)
      await expectRpcError(login(email, WRONG), status.UNAUTHENTICATED, { reason: 'INVALID_CREDENTIALS' });
    await login(email, DEFAULT_PASSWORD);
  });

  it('refuses an IP after too many failures across accounts', async function () {
    this.timeout(20_000);
    // A fresh window: earlier tests' failures from this IP have expired.
    await new Promise((resolve) => setTimeout(resolve, 2100));
    for (let i = 0; i < 12; i++) {
      await expectRpcError(login(uniqueEmail('spray'), WRONG), status.UNAUTHENTICATED, { reason: 'INVALID_CREDENTIALS' });
    }
    const { email } = await registerUser({ server });
    await expectRpcError(login(email, DEFAULT_PASSWORD), status.RESOURCE_EXHAUSTED, { reason: 'TOO_MANY_ATTEMPTS' });
    await new Promise((resolve) => setTimeout(resolve, 2100));
  });
});
