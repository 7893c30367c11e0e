import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { openedAuditRows, registerUser, signedInUser, sql } from '../helpers/fixtures.js';
import { plantLink as plantSealedLink, storedLinks } from '../helpers/provider-links.js';
import { startMailTestBed, tokenFromMail, type MailTestBed } from '../helpers/mail.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, call } from '../helpers/server.js';

/**
 * Issue 9, attack 1: an account whose address was never verified may be a
 * squatter's. The first proof of the address (VerifyEmail, or ResetPassword
 * through the mailed link) removes the provider links and ends the sessions
 * made before it, and the audit trail says so.
 */
describe('The first proof of an address', function () {
  this.timeout(20_000);
  let bed: MailTestBed;
  before(async () => {
    bed = await startMailTestBed();
  });
  after(() => bed.close());

  const db = () => bed.db;

  /** A provider link as one made before linking needed a verified address. */
  async function plantLink(userId: string): Promise<string> {
    const subject = `sub-${randomBytes(6).toString('hex')}`;
    await plantSealedLink(bed.server, userId, 'test-idp', subject);
    return subject;
  }

  const linksOf = async (userId: string) => (await storedLinks('user_id = $1', [userId], bed.server)).map((l) => l.subject);

  /** The user's audit events with their personal parts opened (the provider subject is sealed under the user's key). */
  const eventsOf = (userId: string) => openedAuditRows('subject_user_id = $1', [userId], bed.server);

  async function mailedToken(address: string, subject: string, send: () => Promise<unknown>): Promise<string> {
    const seen = bed.smtp.to(address).length;
    await send();
    while (
      !bed.smtp
        .to(address)
        .slice(seen)
        .some((m) => m.subject === subject)
    )
      await new Promise((r) => setTimeout(r, 20));
    return tokenFromMail(bed.smtp.to(address).findLast((m) => m.subject === subject)!);
  }

  it('VerifyEmail removes the planted links and ends every session made before, audited', async () => {
    const squatter = await signedInUser({ server: bed.server });
    const userId = squatter.user!.id;
    const other = await call(bed.server.auth, 'login', { email: squatter.email, password: squatter.password });
    const subject = await plantLink(userId);
    const token = await mailedToken(squatter.email, 'Confirm your email address', () =>
      call(bed.server.auth, 'requestEmailVerification', {}, bearer(squatter.accessToken)),
    );

    const res = await call(bed.server.auth, 'verifyEmail', { token });

    expect(res.user!.emailVerified).to.equal(true);
    expect(await linksOf(userId)).to.deep.equal([]);
    for (const refreshToken of [squatter.refreshToken, other.tokens!.refreshToken]) {
      await expectRpcError(call(bed.server.auth, 'refreshToken', { refreshToken }), status.UNAUTHENTICATED);
    }
    await expectRpcError(
      call(bed.server.auth, 'requestEmailVerification', {}, bearer(squatter.accessToken)),
      status.UNAUTHENTICATED,
    );

    const events = await eventsOf(userId);
    const unlinked = events.filter((e) => e.type === 'social_login.unlinked');
    expect(unlinked.map((e) => e.metadata)).to.deep.equal([{ provider: 'test-idp', subject, cause: 'address_proven' }]);
    const revoked = events.filter((e) => e.type === 'sessions.revoked_all');
    expect(revoked).to.have.length(1);
    expect(revoked[0].metadata).to.include({ reason: 'address_proven', sessions_revoked: 2 });
    expect(JSON.stringify(events)).to.not.include(token);
    // The password still signs in: whoever proved the address can take it from here (or reset it).
    await call(bed.server.auth, 'login', { email: squatter.email, password: squatter.password });
  });

  it('ResetPassword through the mailed link removes the planted links of a never-verified account', async () => {
    const { user, email } = await registerUser({ server: bed.server });
    await plantLink(user.id);
    const token = await mailedToken(email, 'Reset your password', () => call(bed.server.auth, 'requestPasswordReset', { email }));

    await call(bed.server.auth, 'resetPassword', { token, newPassword: 'the owner now holds this one' });

    expect(await linksOf(user.id)).to.deep.equal([]);
    const events = await eventsOf(user.id);
    expect(events.filter((e) => e.type === 'social_login.unlinked').map((e) => e.metadata.cause)).to.deep.equal([
      'address_proven',
    ]);
  });

  it('ResetPassword leaves the links of an account whose address was already verified', async () => {
    const { user, email } = await registerUser({ server: bed.server });
    await sql('update users set email_verified_at = now() where id = $1', [user.id], db());
    const subject = await plantLink(user.id);
    const token = await mailedToken(email, 'Reset your password', () => call(bed.server.auth, 'requestPasswordReset', { email }));

    await call(bed.server.auth, 'resetPassword', { token, newPassword: 'the owner now holds this one' });

    expect(await linksOf(user.id)).to.deep.equal([subject]);
  });
});
