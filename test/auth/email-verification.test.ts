import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { signedInUser, sql } from '../helpers/fixtures.js';
import { startMailTestBed, tokenFromMail, type MailTestBed } from '../helpers/mail.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, call } from '../helpers/server.js';

describe('AuthService.RequestEmailVerification and VerifyEmail', () => {
  let bed: MailTestBed;
  before(async () => {
    bed = await startMailTestBed();
  });
  after(() => bed.close());
  afterEach(() => bed.server.clock.reset());

  const requestVerification = (accessToken: string) => call(bed.server.auth, 'requestEmailVerification', {}, bearer(accessToken));
  const verify = (token: string) => call(bed.server.auth, 'verifyEmail', { token });

  async function mailedToken(user: { email: string; accessToken: string }): Promise<string> {
    const before = bed.smtp.to(user.email).length;
    await requestVerification(user.accessToken);
    while (bed.smtp.to(user.email).length === before) await new Promise((r) => setTimeout(r, 20));
    return tokenFromMail(bed.smtp.to(user.email).at(-1)!);
  }

  it('mails a link that sets email_verified', async () => {
    const user = await signedInUser({ server: bed.server });
    expect(user.user!.emailVerified).to.equal(false);

    const token = await mailedToken(user);
    const mail = bed.smtp.to(user.email).at(-1)!;
    expect(mail.subject).to.equal('Confirm your email address');
    expect(mail.text).to.include(`https://id.example.test/verify-email?token=${token}`);

    const res = await verify(token);

    expect(res.user!.emailVerified).to.equal(true);
    const again = await call(bed.server.auth, 'login', { email: user.email, password: user.password });
    expect(again.user!.emailVerified).to.equal(true);
  });

  it('works once', async () => {
    const user = await signedInUser({ server: bed.server });
    const token = await mailedToken(user);
    await verify(token);

    await expectRpcError(verify(token), status.INVALID_ARGUMENT, { reason: 'INVALID_ONE_TIME_TOKEN', fields: ['token'] });
  });

  it('refuses a link after it expired (24 hours by default)', async () => {
    const user = await signedInUser({ server: bed.server });
    const token = await mailedToken(user);

    bed.server.clock.advance(24 * 3600 + 1);

    await expectRpcError(verify(token), status.INVALID_ARGUMENT, { reason: 'INVALID_ONE_TIME_TOKEN' });
  });

  it('refuses a link that a newer request superseded', async () => {
    const user = await signedInUser({ server: bed.server });
    const first = await mailedToken(user);
    const second = await mailedToken(user);

    await expectRpcError(verify(first), status.INVALID_ARGUMENT, { reason: 'INVALID_ONE_TIME_TOKEN' });
    await verify(second);
  });

  it('refuses a second request once the address is verified, with EMAIL_ALREADY_VERIFIED', async () => {
    const user = await signedInUser({ server: bed.server });
    await verify(await mailedToken(user));
    // The first proof of the address ended the session made before it: sign in again.
    const again = await call(bed.server.auth, 'login', { email: user.email, password: user.password });

    await expectRpcError(requestVerification(again.tokens!.accessToken), status.FAILED_PRECONDITION, {
      reason: 'EMAIL_ALREADY_VERIFIED',
    });
  });

  it('refuses a link of an account that is no longer active', async () => {
    const user = await signedInUser({ server: bed.server });
    const token = await mailedToken(user);
    await sql(`update users set status = 'suspended' where id = $1`, [user.user!.id], bed.db);

    await expectRpcError(verify(token), status.INVALID_ARGUMENT, { reason: 'INVALID_ONE_TIME_TOKEN' });
  });

  it('needs a signed-in caller to request a link', async () => {
    await expectRpcError(call(bed.server.auth, 'requestEmailVerification', {}), status.UNAUTHENTICATED, {
      reason: 'MISSING_CREDENTIALS',
    });
  });

  it('records email_verification.requested and email.verified, without the token', async () => {
    const user = await signedInUser({ server: bed.server });
    const token = await mailedToken(user);
    await verify(token);

    const events = await sql<{ type: string; metadata: Record<string, unknown> }>(
      `select type, metadata from audit_events where subject_user_id = $1 and type like 'email%' order by id`,
      [user.user!.id],
      bed.db,
    );
    expect(events.map((e) => e.type)).to.deep.equal(['email_verification.requested', 'email.verified']);
    expect(JSON.stringify(events)).to.not.include(token);
  });
});
