import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import type { ExportUserDataResponse } from '../../src/gen/tessera/v1/compliance_service.js';
import { complianceClient } from '../helpers/audit.js';
import { findEverywhere } from '../helpers/database-sweep.js';
import { emailIndexOf } from '../helpers/email-index.js';
import { registerUser, sql, uniqueEmail } from '../helpers/fixtures.js';
import { startOidcTestSetup, type OidcTestSetup } from '../helpers/oidc-provider.js';
import { storedLinkOf, storedLinks, subjectIndexOf } from '../helpers/provider-links.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, call } from '../helpers/server.js';

const newSubject = () => `sub-${randomBytes(8).toString('hex')}`;

/** Issue 10: a provider's subject (a stable identifier of a person) is never stored in clear. */
describe('Provider subjects at rest', function () {
  this.timeout(30_000);
  let setup: OidcTestSetup;
  before(async () => {
    setup = await startOidcTestSetup();
  });
  after(() => setup.close());

  async function verifiedPasswordUser() {
    const { email, password, user } = await registerUser({ server: setup.server });
    await sql('update users set email_verified_at = now() where id = $1', [user.id]);
    const res = await call(setup.server.auth, 'login', { email, password });
    return { id: user.id, token: res.tokens!.accessToken };
  }

  const loginWithProvider = async (provider: 'test-idp' | 'other-idp', sub: string, email = uniqueEmail('subject')) =>
    call(setup.server.auth, 'loginWithProvider', {
      provider,
      idToken: await (provider === 'test-idp' ? setup.provider : setup.other).idToken(sub, { email, email_verified: true }),
    });

  const linkSubject = async (token: string, sub: string) =>
    call(
      setup.server.identity,
      'linkSocialLogin',
      { provider: 'test-idp', idToken: await setup.provider.idToken(sub) },
      bearer(token),
    );

  it('stores a first sign-in and a link as a blind index and a sealed subject: the subject is nowhere in clear', async () => {
    const [signedUp, linked] = [newSubject(), newSubject()];
    const created = await loginWithProvider('test-idp', signedUp);
    const owner = await verifiedPasswordUser();
    await linkSubject(owner.token, linked);

    for (const [sub, userId] of [
      [signedUp, created.user!.id],
      [linked, owner.id],
    ] as const) {
      expect(await findEverywhere(sub), `${sub} in clear`).to.deep.equal([]);
      const row = (await storedLinkOf('test-idp', sub, setup.server))!;
      expect(row).to.include({ user_id: userId, subject: sub, provider: 'test-idp' });
      expect(row.provider_subject_ciphertext).to.match(/^v1\./);
      // Keyed per provider and apart from the email index: the same string elsewhere indexes differently.
      expect(row.provider_subject_index).not.to.equal(subjectIndexOf('other-idp', sub, setup.server));
      expect(row.provider_subject_index).not.to.equal(emailIndexOf(sub));
    }
  });

  it('finds the account again by the index; the same subject at another provider is another account', async () => {
    const sub = newSubject();
    const first = await loginWithProvider('test-idp', sub);
    const again = await loginWithProvider('test-idp', sub);
    expect(again.created).to.equal(false);
    expect(again.user!.id).to.equal(first.user!.id);

    const elsewhere = await loginWithProvider('other-idp', sub);
    expect(elsewhere.created).to.equal(true);
    expect(elsewhere.user!.id).not.to.equal(first.user!.id);
    const links = await storedLinks('user_id = any($1)', [[first.user!.id, elsewhere.user!.id]], setup.server);
    expect(links.map((l) => [l.provider, l.subject])).to.have.deep.members([
      ['test-idp', sub],
      ['other-idp', sub],
    ]);
  });

  it('answers the subject opened in ListSocialLogins and in the export, as before', async () => {
    const sub = newSubject();
    const email = uniqueEmail('subject-export');
    const { tokens } = await loginWithProvider('test-idp', sub, email);
    const md = bearer(tokens!.accessToken);

    const listed = await call(setup.server.identity, 'listSocialLogins', { userId: '' }, md);
    expect(listed.socialLogins.map((l) => ({ provider: l.provider, subject: l.subject, email: l.email }))).to.deep.equal([
      { provider: 'test-idp', subject: sub, email },
    ]);

    const client = complianceClient(setup.server.address);
    const parts: ExportUserDataResponse['part'][] = [];
    try {
      await new Promise<void>((resolve, reject) => {
        const stream = client.exportUserData({ userId: '' }, md);
        stream.on('data', (msg: ExportUserDataResponse) => parts.push(msg.part));
        stream.on('error', reject);
        stream.on('end', resolve);
      });
    } finally {
      client.close();
    }
    const links = parts.flatMap((p) => (p?.$case === 'socialLogin' ? [p.value] : []));
    expect(links.map((l) => ({ provider: l.provider, subject: l.subject, email: l.email }))).to.deep.equal([
      { provider: 'test-idp', subject: sub, email },
    ]);
  });

  it('refuses a linked subject to a second account, also when two accounts link it at the same moment', async () => {
    const sub = newSubject();
    const [a, b, c] = await Promise.all([verifiedPasswordUser(), verifiedPasswordUser(), verifiedPasswordUser()]);

    const results = await Promise.allSettled([linkSubject(a.token, sub), linkSubject(b.token, sub)]);
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won, 'exactly one link').to.have.length(1);
    const lost = results.find((r) => r.status === 'rejected')!;
    await expectRpcError(Promise.reject(lost.reason), status.ALREADY_EXISTS, { reason: 'SOCIAL_LOGIN_TAKEN' });

    await expectRpcError(linkSubject(c.token, sub), status.ALREADY_EXISTS, { reason: 'SOCIAL_LOGIN_TAKEN' });
    const links = await storedLinks(
      'provider = $1 and provider_subject_index = $2',
      ['test-idp', subjectIndexOf('test-idp', sub, setup.server)],
      setup.server,
    );
    expect(links).to.have.length(1);
    expect([a.id, b.id]).to.include(links[0]!.user_id);
  });
});
