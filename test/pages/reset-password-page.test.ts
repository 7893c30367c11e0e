import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { browserPageTests, saveScreenshot } from '../helpers/browser.js';
import { registerUser, sql } from '../helpers/fixtures.js';
import { linkFromMail } from '../helpers/mail.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { call } from '../helpers/server.js';
import { emailIndexOf } from '../helpers/email-index.js';

const NEW_PASSWORD = 'a fresh passphrase from the page';

describe('Page: /reset-password behind the mailed link', () => {
  const pages = browserPageTests();

  /** Registers a user, asks for a reset and returns the link of the mail in the dev mail folder. */
  async function mailedLink(): Promise<{ email: string; password: string; link: string }> {
    const { email, password } = await registerUser({ server: pages.bed.server });
    await call(pages.bed.server.auth, 'requestPasswordReset', { email });
    return { email, password, link: linkFromMail(await pages.bed.mailTo(email)) };
  }

  async function submitNewPassword(password: string, repeated = password) {
    await pages.page.type('#new_password', password);
    await pages.page.type('#confirm_password', repeated);
    const [response] = await Promise.all([pages.page.waitForNavigation(), pages.page.click('button[type=submit]')]);
    return response!;
  }

  const login = (email: string, password: string) => call(pages.bed.server.auth, 'login', { email, password });
  const text = () => pages.page.$eval('main', (main) => main.textContent ?? '');

  it('leads from the mail to a sign-in with the new password, and the old one stops working', async () => {
    const { email, password, link } = await mailedLink();
    expect(link.startsWith(`${pages.bed.server.tessera.publicBaseUrl}/reset-password?token=tpr_`), link).to.equal(true);

    const shown = await pages.page.goto(link);
    expect(shown!.status()).to.equal(200);
    expect(await pages.page.title()).to.equal('Choose a new password · Tessera');
    await saveScreenshot(pages.page, 'reset-password-form');

    const done = await submitNewPassword(NEW_PASSWORD);
    expect(done.status()).to.equal(200);
    expect(await text()).to.contain('Password changed');
    await saveScreenshot(pages.page, 'reset-password-done');

    const signedIn = await login(email, NEW_PASSWORD);
    expect(signedIn.user!.email).to.equal(email);
    await expectRpcError(login(email, password), status.UNAUTHENTICATED);
  });

  it('does nothing when the link is only opened (mail scanners follow links)', async () => {
    const { email, password, link } = await mailedLink();
    await pages.page.goto(link);
    await pages.page.reload();
    const direct = await fetch(link);
    expect(direct.status).to.equal(200);

    const [row] = await sql<{ consumed_at: Date | null }>(
      `select t.consumed_at from one_time_tokens t join users u on u.id = t.user_id where u.email_index = $1 and t.purpose = 'password_reset'`,
      [emailIndexOf(email)],
      pages.bed.db,
    );
    expect(row.consumed_at).to.equal(null);
    expect((await login(email, password)).user!.email).to.equal(email);
    // The link still works afterwards.
    expect((await submitNewPassword(NEW_PASSWORD)).status()).to.equal(200);
  });

  it('shows the password policy reason for a weak password and keeps the form usable', async () => {
    const { email, link } = await mailedLink();
    await pages.page.goto(link);
    const refused = await submitNewPassword('password');
    expect(refused.status()).to.equal(422);
    expect(await text()).to.contain('This password cannot be used: it is one of the most common passwords');
    expect(await pages.page.$eval('#new_password', (el) => el.getAttribute('aria-invalid'))).to.equal('true');
    await saveScreenshot(pages.page, 'reset-password-weak');

    const short = await submitNewPassword('short');
    expect(short.status()).to.equal(422);
    expect(await text()).to.contain('must be at least 8 characters');

    expect((await submitNewPassword(NEW_PASSWORD)).status()).to.equal(200);
    expect((await login(email, NEW_PASSWORD)).user!.email).to.equal(email);
  });

  it('asks again when the two passwords differ, changing nothing', async () => {
    const { email, password, link } = await mailedLink();
    await pages.page.goto(link);
    const refused = await submitNewPassword(NEW_PASSWORD, `${NEW_PASSWORD}!`);
    expect(refused.status()).to.equal(422);
    expect(await text()).to.contain('The two passwords differ');
    expect((await login(email, password)).user!.email).to.equal(email);
  });

  it('says a link has expired, when opened and when its form is sent too late', async () => {
    const { email, password, link } = await mailedLink();
    await pages.page.goto(link);
    pages.bed.server.clock.advance(31 * 60);
    const late = await submitNewPassword(NEW_PASSWORD);
    expect(late.status()).to.equal(410);
    expect(await text()).to.contain('This link has expired');

    const reopened = await pages.page.goto(link);
    expect(reopened!.status()).to.equal(410);
    expect(await text()).to.contain('This link has expired');
    expect((await login(email, password)).user!.email).to.equal(email);
  });

  it('says a link was already used, when its form is sent again and when opened again', async () => {
    const { link } = await mailedLink();
    await pages.page.goto(link);
    // Another tab used the link meanwhile.
    const token = new URL(link).searchParams.get('token')!;
    const other = await fetch(new URL('/reset-password', link), {
      method: 'POST',
      body: new URLSearchParams({ token, new_password: NEW_PASSWORD, confirm_password: NEW_PASSWORD }),
    });
    expect(other.status).to.equal(200);

    const late = await submitNewPassword('another good passphrase');
    expect(late.status()).to.equal(410);
    expect(await text()).to.contain('This link has already been used');
    const reopened = await pages.page.goto(link);
    expect(reopened!.status()).to.equal(410);
    expect(await text()).to.contain('This link has already been used');
  });

  it('says a link superseded by a newer mail was already used', async () => {
    const { email, link } = await mailedLink();
    await call(pages.bed.server.auth, 'requestPasswordReset', { email });
    const reopened = await pages.page.goto(link);
    expect(reopened!.status()).to.equal(410);
    expect(await text()).to.contain('This link has already been used');
  });

  it('says a mangled or missing token is not a valid link', async () => {
    const { link } = await mailedLink();
    for (const broken of [link.slice(0, -5), `${pages.bed.server.tessera.publicBaseUrl}/reset-password`, `${link}x`]) {
      const shown = await pages.page.goto(broken);
      expect(shown!.status(), broken).to.equal(404);
      expect(await text()).to.contain('This link is not valid');
    }
  });

  it('never writes the token into the log', async () => {
    const { link } = await mailedLink();
    await pages.page.goto(link);
    await submitNewPassword('password');
    await submitNewPassword(NEW_PASSWORD);
    const token = new URL(link).searchParams.get('token')!;
    expect(pages.bed.server.logs.text()).to.contain('"http":"POST /reset-password"');
    expect(pages.bed.server.logs.text()).not.to.contain(token);
    expect(pages.bed.server.logs.text()).not.to.contain(NEW_PASSWORD);
  });
});
