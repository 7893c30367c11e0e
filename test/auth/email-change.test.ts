import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { registerUser, signedInUser, sql, uniqueEmail } from '../helpers/fixtures.js';
import { startMailTestBed, tokenFromMail, type MailTestBed } from '../helpers/mail.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, call } from '../helpers/server.js';

describe('AuthService.RequestEmailChange', () => {
  let bed: MailTestBed;
  before(async () => {
    bed = await startMailTestBed();
  });
  after(() => bed.close());

  const requestChange = (accessToken: string, newEmail: string, currentPassword: string) =>
    call(bed.server.auth, 'requestEmailChange', { newEmail, currentPassword }, bearer(accessToken));
  const login = (email: string, password: string) => call(bed.server.auth, 'login', { email, password });

  it('mails the new address and switches the account only once that link is used', async () => {
    const user = await signedInUser({ server: bed.server });
    const newEmail = uniqueEmail('moved');

    await requestChange(user.accessToken, newEmail, user.password);
    const mail = await bed.smtp.waitFor(newEmail);
    expect(mail.subject).to.equal('Confirm your new email address');
    expect(bed.smtp.to(user.email)).to.have.length(0);

    // Not yet: the old address still signs in, the new one does not.
    expect((await login(user.email, user.password)).user!.email).to.equal(user.email);
    await expectRpcError(login(newEmail, user.password), status.UNAUTHENTICATED, { reason: 'INVALID_CREDENTIALS' });

    const res = await call(bed.server.auth, 'verifyEmail', { token: tokenFromMail(mail) });

    expect(res.user!.email).to.equal(newEmail);
    expect(res.user!.emailVerified).to.equal(true);
    expect((await login(newEmail, user.password)).user!.id).to.equal(user.user!.id);
    await expectRpcError(login(user.email, user.password), status.UNAUTHENTICATED, { reason: 'INVALID_CREDENTIALS' });
  });

  it('requires the current password: a wrong one changes nothing and is audited', async () => {
    const user = await signedInUser({ server: bed.server });

    await expectRpcError(requestChange(user.accessToken, uniqueEmail('moved'), 'not my password'), status.INVALID_ARGUMENT, {
      reason: 'INVALID_CREDENTIALS',
      fields: ['current_password'],
    });

    const [event] = await sql<{ metadata: Record<string, unknown> }>(
      `select metadata from audit_events where subject_user_id = $1 and type = 'reauthentication.failed'`,
      [user.user!.id],
      bed.db,
    );
    expect(event.metadata).to.deep.equal({ operation: 'request_email_change' });
    const [{ count }] = await sql<{ count: number }>(
      'select count(*)::int as count from one_time_tokens where user_id = $1',
      [user.user!.id],
      bed.db,
    );
    expect(count).to.equal(0);
  });

  it("refuses another account's address with EMAIL_TAKEN, and the account's own address as invalid", async () => {
    const user = await signedInUser({ server: bed.server });
    const other = await registerUser({ server: bed.server });

    await expectRpcError(requestChange(user.accessToken, other.email.toUpperCase(), user.password), status.ALREADY_EXISTS, {
      reason: 'EMAIL_TAKEN',
    });
    await expectRpcError(requestChange(user.accessToken, user.email, user.password), status.INVALID_ARGUMENT, {
      fields: ['new_email'],
    });
    await expectRpcError(requestChange(user.accessToken, 'not-an-address', user.password), status.INVALID_ARGUMENT, {
      fields: ['new_email'],
    });
  });

  it('fails with EMAIL_TAKEN if the new address was registered before the link is used, and changes nothing', async () => {
    const user = await signedInUser({ server: bed.server });
    const newEmail = uniqueEmail('race');
    await requestChange(user.accessToken, newEmail, user.password);
    const token = tokenFromMail(await bed.smtp.waitFor(newEmail));
    await registerUser({ server: bed.server, email: newEmail });

    await expectRpcError(call(bed.server.auth, 'verifyEmail', { token }), status.ALREADY_EXISTS, { reason: 'EMAIL_TAKEN' });
    expect((await login(user.email, user.password)).user!.email).to.equal(user.email);
  });

  it('records email_change.requested and email.changed, without addresses or token', async () => {
    const user = await signedInUser({ server: bed.server });
    const newEmail = uniqueEmail('moved');
    await requestChange(user.accessToken, newEmail, user.password);
    const token = tokenFromMail(await bed.smtp.waitFor(newEmail));
    await call(bed.server.auth, 'verifyEmail', { token });

    const events = await sql<{ type: string; metadata: Record<string, unknown> }>(
      `select type, metadata from audit_events where subject_user_id = $1 and type like 'email%' order by id`,
      [user.user!.id],
      bed.db,
    );
    expect(events.map((e) => e.type)).to.deep.equal(['email_change.requested', 'email.changed']);
    expect(JSON.stringify(events)).to.not.include(newEmail).and.not.include(token);
  });
});
