import { expect } from 'chai';
import { registerUser } from '../helpers/fixtures.js';
import { linkFromMail, startPageTestBed, type PageTestBed } from '../helpers/mail.js';
import { call } from '../helpers/server.js';

const NEW_PASSWORD = 'a fresh passphrase from the page';

describe('Public pages: headers, methods and forged posts', () => {
  let bed: PageTestBed;
  before(async () => {
    bed = await startPageTestBed();
  });
  after(() => bed.close());

  async function resetLink(): Promise<{ email: string; password: string; link: string; token: string }> {
    const { email, password } = await registerUser({ server: bed.server });
    await call(bed.server.auth, 'requestPasswordReset', { email });
    const link = linkFromMail(await bed.mailTo(email));
    return { email, password, link, token: new URL(link).searchParams.get('token')! };
  }

  const post = (path: string, body: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${bed.server.tessera.publicBaseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(body),
    });
  const resetForm = (token: string) => ({ token, new_password: NEW_PASSWORD, confirm_password: NEW_PASSWORD });
  const passwordWorks = async (email: string, password: string) =>
    call(bed.server.auth, 'login', { email, password }).then(
      () => true,
      () => false,
    );

  it('sends a strict Content-Security-Policy, no referrer, no framing and no caching', async () => {
    const { link } = await resetLink();
    const res = await fetch(link);
    expect(res.status).to.equal(200);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).to.match(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; form-action 'self'; frame-ancestors 'none'/);
    expect(res.headers.get('referrer-policy')).to.equal('no-referrer');
    expect(res.headers.get('x-frame-options')).to.equal('DENY');
    expect(res.headers.get('cache-control')).to.equal('no-store');
    expect(res.headers.get('x-content-type-options')).to.equal('nosniff');
    const html = await res.text();
    expect(html).not.to.match(/<script|https?:\/\/|src=/i);
  });

  it('refuses posts from another site and changes nothing', async () => {
    const { email, password, token } = await resetLink();
    const crossSite = await post('/reset-password', resetForm(token), { 'sec-fetch-site': 'cross-site' });
    const foreignOrigin = await post('/reset-password', resetForm(token), { origin: 'https://evil.example' });
    expect([crossSite.status, foreignOrigin.status]).to.deep.equal([403, 403]);
    expect(await passwordWorks(email, password)).to.equal(true);

    const sameOrigin = await post('/reset-password', resetForm(token), {
      origin: new URL(bed.server.tessera.publicBaseUrl).origin,
      'sec-fetch-site': 'same-origin',
    });
    expect(sameOrigin.status).to.equal(200);
    expect(await passwordWorks(email, NEW_PASSWORD)).to.equal(true);
  });

  it('lets exactly one of two simultaneous posts of one link through', async () => {
    const { email, token } = await resetLink();
    const results = await Promise.all([post('/reset-password', resetForm(token)), post('/reset-password', resetForm(token))]);
    expect(results.map((r) => r.status).sort()).to.deep.equal([200, 410]);
    expect(await passwordWorks(email, NEW_PASSWORD)).to.equal(true);
  });

  it('answers other methods, content types, sizes and paths with the right status', async () => {
    const { token } = await resetLink();
    const base = bed.server.tessera.publicBaseUrl;
    const put = await fetch(`${base}/reset-password`, { method: 'PUT' });
    expect(put.status).to.equal(405);
    expect(put.headers.get('allow')).to.equal('GET, HEAD, POST');
    const json = await fetch(`${base}/reset-password`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(resetForm(token)),
    });
    expect(json.status).to.equal(415);
    const huge = await post('/reset-password', { ...resetForm(token), padding: 'x'.repeat(20_000) });
    expect(huge.status).to.equal(413);
    expect((await fetch(`${base}/`)).status).to.equal(404);
    expect((await fetch(`${base}/reset-password?token=${token}`, { method: 'HEAD' })).status).to.equal(200);
  });
});
