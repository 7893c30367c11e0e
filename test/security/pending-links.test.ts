import { status, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { signedInUser, uniqueEmail } from '../helpers/fixtures.js';
import { startMailTestBed, tokenFromMail, type MailTestBed } from '../helpers/mail.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, call } from '../helpers/server.js';

const NEW_PASSWORD = 'the owner took it back';

/**
 * Attack 5 of issue 9: one-time links mailed before a credential change must
 * die with it, or whoever had brief access completes the takeover later.
 */
describe('Attack: pending one-time links outliving a credential change', function () {
  this.timeout(30_000);
  let bed: MailTestBed;
  before(async () => {
    bed = await startMailTestBed();
  });
  after(() => bed.close());

  const auth = () => bed.server.auth;
  const login = (email: string, password: string) => call(auth(), 'login', { email, password });

  /** The token of the newest mail to `address` once it has more than `seen` mails. */
  async function nextToken(address: string, seen = bed.smtp.to(address).length): Promise<string> {
    while (bed.smtp.to(address).length <= seen) await new Promise((r) => setTimeout(r, 20));
    return tokenFromMail(bed.smtp.to(address).at(-1)!);
  }

  async function emailChangeLink(accessToken: string, password: string, newEmail: string): Promise<string> {
    const seen = bed.smtp.to(newEmail).length;
    await call(auth(), 'requestEmailChange', { newEmail, currentPassword: password }, bearer(accessToken));
    return nextToken(newEmail, seen);
  }

  async function resetLink(email: string): Promise<string> {
    const seen = bed.smtp.to(email).length;
    await call(auth(), 'requestPasswordReset', { email });
    return nextToken(email, seen);
  }

  /** A dead link is refused: unknown or used token, or a precondition that no longer holds. */
  async function expectDeadLink(promise: Promise<unknown>): Promise<void> {
    const err = await promise.then(
      () => undefined,
      (e: ServiceError) => e,
    );
    expect(err, 'the link still worked').to.not.equal(undefined);
    expect(status[err!.code], err!.details).to.be.oneOf(['UNAUTHENTICATED', 'FAILED_PRECONDITION', 'INVALID_ARGUMENT']);
  }

  it('refuses an email-change link requested before a password reset, and the address stays', async () => {
    const victim = await signedInUser({ server: bed.server });
    const attackerAddress = uniqueEmail('attacker');
    // The attacker had the session (and the password) for a moment.
    const changeToken = await emailChangeLink(victim.accessToken, victim.password, attackerAddress);

    await call(auth(), 'resetPassword', { token: await resetLink(victim.email), newPassword: NEW_PASSWORD });

    await expectDeadLink(call(auth(), 'verifyEmail', { token: changeToken }));
    expect((await login(victim.email, NEW_PASSWORD)).user!.email).to.equal(victim.email);
    await expectRpcError(login(attackerAddress, NEW_PASSWORD), status.UNAUTHENTICATED, { reason: 'INVALID_CREDENTIALS' });
  });

  it('refuses an email-change link requested before a password change, and the address stays', async () => {
    const victim = await signedInUser({ server: bed.server });
    const attackerAddress = uniqueEmail('attacker');
    const changeToken = await emailChangeLink(victim.accessToken, victim.password, attackerAddress);

    await call(
      auth(),
      'changePassword',
      { currentPassword: victim.password, newPassword: NEW_PASSWORD },
      bearer(victim.accessToken),
    );

    await expectDeadLink(call(auth(), 'verifyEmail', { token: changeToken }));
    expect((await login(victim.email, NEW_PASSWORD)).user!.email).to.equal(victim.email);
  });

  it('refuses a reset link mailed to the old address before an email change, and the password stays', async () => {
    const victim = await signedInUser({ server: bed.server });
    // Whoever reads the old mailbox asks for a reset link there.
    const resetToken = await resetLink(victim.email);
    const newAddress = uniqueEmail('moved');
    await call(auth(), 'verifyEmail', { token: await emailChangeLink(victim.accessToken, victim.password, newAddress) });

    await expectDeadLink(call(auth(), 'resetPassword', { token: resetToken, newPassword: 'the old mailbox reader' }));
    expect((await login(newAddress, victim.password)).user!.id).to.equal(victim.user!.id);
  });
});
