import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import type { ParsedMail } from 'mailparser';
import { registerUser, signedInUser, sql, uniqueEmail } from '../helpers/fixtures.js';
import { startMailTestBed, tokenFromMail, type MailTestBed } from '../helpers/mail.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, call } from '../helpers/server.js';

const NEW_PASSWORD = 'a brand new passphrase here';

/**
 * Security notices (issue 9): a password change, a password reset and an
 * email change are announced by mail, queued in the change's own transaction,
 * so the owner hears of a takeover. A notice carries no secret and no link.
 */
describe('Security notice mails', function () {
  this.timeout(20_000);
  let bed: MailTestBed;
  before(async () => {
    bed = await startMailTestBed();
  });
  after(() => bed.close());

  /** Waits for the mail to `address` with `subject`. */
  async function noticeTo(address: string, subject: string): Promise<ParsedMail> {
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      const found = bed.smtp.to(address).find((m) => m.subject === subject);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no "${subject}" mail to ${address}`);
  }

  /** The templates queued for the outbox so far, oldest first (the notices are queued whether or not SMTP answers). */
  async function queuedTemplates(): Promise<string[]> {
    const rows = await sql<{ template: string }>('select template from email_outbox order by created_at, id', [], bed.db);
    return rows.map((r) => r.template);
  }

  /** The notice says what happened and when, and holds none of `secrets` and no link. */
  function expectSafeNotice(mail: ParsedMail, secrets: string[]): void {
    const body = `${mail.subject}\n${mail.text}\n${typeof mail.html === 'string' ? mail.html : ''}`;
    for (const secret of secrets) expect(body, 'a secret in the notice').to.not.include(secret);
    expect(body).to.not.match(/token=|https?:\/\//);
    expect(mail.text).to.match(/When: \d{4}-\d\d-\d\dT/);
  }

  it('ChangePassword mails "Your password was changed" to the account, with no password or token in it', async () => {
    const user = await signedInUser({ server: bed.server });

    await call(
      bed.server.auth,
      'changePassword',
      { currentPassword: user.password, newPassword: NEW_PASSWORD },
      bearer(user.accessToken),
    );

    const mail = await noticeTo(user.email, 'Your password was changed');
    expect(mail.text).to.include('password of the Tessera account');
    expectSafeNotice(mail, [user.password, NEW_PASSWORD, user.accessToken, user.refreshToken]);
  });

  it('queues no notice for a refused ChangePassword (the wrong current password changes nothing)', async () => {
    const user = await signedInUser({ server: bed.server });
    const before = (await queuedTemplates()).filter((t) => t === 'password_changed').length;

    await expectRpcError(
      call(
        bed.server.auth,
        'changePassword',
        { currentPassword: 'not the password at all', newPassword: NEW_PASSWORD },
        bearer(user.accessToken),
      ),
      status.INVALID_ARGUMENT,
    );

    expect((await queuedTemplates()).filter((t) => t === 'password_changed')).to.have.length(before);
  });

  it('ResetPassword mails "Your password was reset" to the account, after the link and without its token', async () => {
    const { email, password } = await registerUser({ server: bed.server });
    await call(bed.server.auth, 'requestPasswordReset', { email });
    const link = await noticeTo(email, 'Reset your password');
    const token = tokenFromMail(link);

    await call(bed.server.auth, 'resetPassword', { token, newPassword: NEW_PASSWORD });

    const mail = await noticeTo(email, 'Your password was reset');
    expect(mail.text).to.include('Every session was signed out');
    expectSafeNotice(mail, [token, password, NEW_PASSWORD]);
  });

  it('an email change mails "Your email address was changed" to the OLD address, naming neither the new one nor a token', async () => {
    const user = await signedInUser({ server: bed.server });
    const newEmail = uniqueEmail('moved');
    await call(bed.server.auth, 'requestEmailChange', { newEmail, currentPassword: user.password }, bearer(user.accessToken));
    const token = tokenFromMail(await bed.smtp.waitFor(newEmail));
    expect(bed.smtp.to(user.email), 'nothing to the old address before the change').to.have.length(0);

    await call(bed.server.auth, 'verifyEmail', { token });

    const mail = await noticeTo(user.email, 'Your email address was changed');
    expectSafeNotice(mail, [token, newEmail, user.password, user.accessToken]);
    expect(
      bed.smtp.to(newEmail).map((m) => m.subject),
      'the new address gets only its link',
    ).to.deep.equal(['Confirm your new email address']);
  });

  it('queues no notice when the email change fails (the address was taken meanwhile): it rolls back with the change', async () => {
    const user = await signedInUser({ server: bed.server });
    const newEmail = uniqueEmail('contested');
    await call(bed.server.auth, 'requestEmailChange', { newEmail, currentPassword: user.password }, bearer(user.accessToken));
    const token = tokenFromMail(await bed.smtp.waitFor(newEmail));
    await registerUser({ server: bed.server, email: newEmail });
    const before = (await queuedTemplates()).filter((t) => t === 'email_changed').length;

    await expectRpcError(call(bed.server.auth, 'verifyEmail', { token }), status.ALREADY_EXISTS);

    expect((await queuedTemplates()).filter((t) => t === 'email_changed')).to.have.length(before);
  });
});
