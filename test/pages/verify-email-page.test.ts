import { expect } from 'chai';
import { browserPageTests, saveScreenshot } from '../helpers/browser.js';
import { uniqueEmail } from '../helpers/fixtures.js';
import { linkFromMail } from '../helpers/mail.js';
import { bearer, call } from '../helpers/server.js';

const PASSWORD = 'a perfectly fine passphrase';

describe('Page: /verify-email behind the mailed link', () => {
  const pages = browserPageTests();

  /** A signed-in user who asked for a verification mail; the link from the dev mail folder. */
  async function mailedLink(): Promise<{ email: string; accessToken: string; link: string }> {
    const email = uniqueEmail('verify');
    await call(pages.bed.server.auth, 'register', { email, password: PASSWORD, fullName: 'Page Reader' });
    const accessToken = (await call(pages.bed.server.auth, 'login', { email, password: PASSWORD })).tokens!.accessToken;
    await call(pages.bed.server.auth, 'requestEmailVerification', {}, bearer(accessToken));
    return { email, accessToken, link: linkFromMail(await pages.bed.mailTo(email)) };
  }

  const verified = async (email: string) =>
    (await call(pages.bed.server.auth, 'login', { email, password: PASSWORD })).user!.emailVerified;
  const text = () => pages.page.$eval('main', (main) => main.textContent ?? '');
  const confirm = async () => {
    const [response] = await Promise.all([pages.page.waitForNavigation(), pages.page.click('button[type=submit]')]);
    return response!;
  };

  it('confirms the address with the button, not by opening the link', async () => {
    const { email, link } = await mailedLink();
    expect(link.startsWith(`${pages.bed.server.tessera.publicBaseUrl}/verify-email?token=tev_`), link).to.equal(true);

    const shown = await pages.page.goto(link);
    expect(shown!.status()).to.equal(200);
    await saveScreenshot(pages.page, 'verify-email-form');
    expect(await verified(email), 'opening the link alone verified the address').to.equal(false);

    const done = await confirm();
    expect(done.status()).to.equal(200);
    expect(await text()).to.contain(`${email} is now the confirmed address`);
    expect(await verified(email)).to.equal(true);
  });

  it('says the link was used when the button is pressed twice', async () => {
    const { link } = await mailedLink();
    await pages.page.goto(link);
    await confirm();
    await pages.page.goBack();
    const again = await pages.page.goto(link);
    expect(again!.status()).to.equal(410);
    expect(await text()).to.contain('This link has already been used');
  });

  it('says an expired link has expired and verifies nothing', async () => {
    const { email, link } = await mailedLink();
    await pages.page.goto(link);
    pages.bed.server.clock.advance(25 * 3600);
    try {
      const late = await confirm();
      expect(late.status()).to.equal(410);
      expect(await text()).to.contain('This link has expired');
    } finally {
      pages.bed.server.clock.reset();
    }
    expect(await verified(email)).to.equal(false);
  });

  it('says a reset link opened on the verification page is not valid', async () => {
    const { link } = await mailedLink();
    const token = new URL(link).searchParams.get('token')!;
    const wrongKind = await pages.page.goto(`${pages.bed.server.tessera.publicBaseUrl}/verify-email?token=tpr_${token.slice(4)}`);
    expect(wrongKind!.status()).to.equal(404);
    expect(await text()).to.contain('This link is not valid');
  });
});
