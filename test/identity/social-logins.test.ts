import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  adminToken,
  auditEventsOfRequest,
  registerUser,
  serviceAccountKey,
  sql,
  traced,
  uniqueEmail,
} from '../helpers/fixtures.js';
import { startOidcTestSetup, type OidcTestSetup } from '../helpers/oidc-provider.js';
import { storedLinkOf } from '../helpers/provider-links.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, call } from '../helpers/server.js';

const newSubject = () => `sub-${randomBytes(8).toString('hex')}`;

describe('IdentityService social logins', function () {
  this.timeout(20_000);
  let setup: OidcTestSetup;
  before(async () => {
    setup = await startOidcTestSetup();
  });
  after(() => setup.close());

  const identity = () => setup.server.identity;

  /** A password account with a verified address (linking needs one), signed in on the OIDC-enabled server. */
  async function passwordUser() {
    const { email, password, user } = await registerUser({ server: setup.server });
    await sql('update users set email_verified_at = now() where id = $1', [user.id]);
    const res = await call(setup.server.auth, 'login', { email, password });
    return { id: user.id, email, token: res.tokens!.accessToken };
  }

  /** An account created by a first provider login: no password, one link. */
  async function providerOnlyUser() {
    const sub = newSubject();
    const res = await call(setup.server.auth, 'loginWithProvider', {
      provider: 'test-idp',
      idToken: await setup.provider.idToken(sub, { email: uniqueEmail('social'), email_verified: true }),
    });
    return { id: res.user!.id, sub, token: res.tokens!.accessToken };
  }

  const link = async (token: string, sub = newSubject(), provider = 'test-idp', extra: Record<string, unknown> = {}) => {
    const idp = provider === 'test-idp' ? setup.provider : setup.other;
    return call(identity(), 'linkSocialLogin', { provider, idToken: await idp.idToken(sub, extra) }, bearer(token));
  };

  describe('ListSocialLogins', () => {
    it("returns the caller's links with provider, subject, email and times", async () => {
      const user = await providerOnlyUser();
      const { socialLogins } = await call(identity(), 'listSocialLogins', { userId: '' }, bearer(user.token));
      expect(socialLogins).to.have.length(1);
      expect(socialLogins[0]).to.include({ provider: 'test-idp', subject: user.sub });
      expect(socialLogins[0].email).to.contain('@example.com');
      expect(socialLogins[0].createdAt).to.be.instanceOf(Date);
      expect(socialLogins[0].lastLoginAt).to.be.instanceOf(Date);
    });

    it("lets the admin and a service account read anyone's links; a user only their own", async () => {
      const owner = await providerOnlyUser();
      const { apiKey } = await serviceAccountKey();
      for (const token of [await adminToken(setup.server), apiKey]) {
        const { socialLogins } = await call(identity(), 'listSocialLogins', { userId: owner.id }, bearer(token));
        expect(socialLogins.map((l) => l.subject)).to.deep.equal([owner.sub]);
      }
      const stranger = await passwordUser();
      await expectRpcError(
        call(identity(), 'listSocialLogins', { userId: owner.id }, bearer(stranger.token)),
        status.PERMISSION_DENIED,
        {
          reason: 'PERMISSION_DENIED',
        },
      );
    });

    it('answers NOT_FOUND for an unknown user and INVALID_ARGUMENT for a malformed id', async () => {
      const admin = await adminToken(setup.server);
      await expectRpcError(call(identity(), 'listSocialLogins', { userId: randomUUID() }, bearer(admin)), status.NOT_FOUND, {
        reason: 'USER_NOT_FOUND',
      });
      await expectRpcError(call(identity(), 'listSocialLogins', { userId: 'zzz' }, bearer(admin)), status.INVALID_ARGUMENT, {
        fields: ['user_id'],
      });
    });
  });

  describe('LinkSocialLogin', () => {
    it('links a provider account to the signed-in user, who can then sign in with it', async () => {
      const user = await passwordUser();
      const sub = newSubject();
      const { metadata, requestId } = traced(user.token);

      const { socialLogin } = await call(
        identity(),
        'linkSocialLogin',
        { provider: 'test-idp', idToken: await setup.provider.idToken(sub, { email: 'whatever@elsewhere.example' }) },
        metadata,
      );

      expect(socialLogin).to.include({ provider: 'test-idp', subject: sub, email: 'whatever@elsewhere.example' });
      // Stored sealed under the user's data key, never in clear.
      const row = await storedLinkOf('test-idp', sub, setup.server);
      expect(row!.email_ciphertext).to.match(/^v1\./).and.not.contain('whatever');
      const [event] = await auditEventsOfRequest(requestId);
      expect(event).to.include({ type: 'social_login.linked', subject_user_id: user.id, actor_type: 'user', actor_id: user.id });
      expect(event.metadata).to.deep.equal({ provider: 'test-idp', subject: sub, via: 'user' });
      const res = await call(setup.server.auth, 'loginWithProvider', {
        provider: 'test-idp',
        idToken: await setup.provider.idToken(sub),
      });
      expect(res.user!.id).to.equal(user.id);
    });

    it('is idempotent for the same provider account', async () => {
      const user = await passwordUser();
      const sub = newSubject();
      const first = await link(user.token, sub);
      const again = await link(user.token, sub);
      expect(again.socialLogin!.createdAt!.getTime()).to.equal(first.socialLogin!.createdAt!.getTime());
    });

    it('refuses a provider account linked to someone else: ALREADY_EXISTS, SOCIAL_LOGIN_TAKEN', async () => {
      const owner = await providerOnlyUser();
      const thief = await passwordUser();
      await expectRpcError(link(thief.token, owner.sub), status.ALREADY_EXISTS, { reason: 'SOCIAL_LOGIN_TAKEN' });
    });

    it('refuses a second account of the same provider: ALREADY_EXISTS, PROVIDER_ALREADY_LINKED', async () => {
      const user = await passwordUser();
      await link(user.token);
      await expectRpcError(link(user.token), status.ALREADY_EXISTS, { reason: 'PROVIDER_ALREADY_LINKED' });
    });

    it('refuses an invalid ID token (INVALID_ARGUMENT on id_token) and an unknown provider (on provider)', async () => {
      const user = await passwordUser();
      await expectRpcError(link(user.token, newSubject(), 'test-idp', { aud: 'someone-else' }), status.INVALID_ARGUMENT, {
        fields: ['id_token'],
      });
      await expectRpcError(
        call(identity(), 'linkSocialLogin', { provider: 'nope', idToken: 'x' }, bearer(user.token)),
        status.INVALID_ARGUMENT,
        {
          fields: ['provider'],
        },
      );
    });

    it('is refused to a service account, which has no account to link to', async () => {
      const { apiKey } = await serviceAccountKey();
      await expectRpcError(link(apiKey), status.PERMISSION_DENIED, { reason: 'PERMISSION_DENIED' });
    });
  });

  describe('UnlinkSocialLogin', () => {
    it('removes a link of an account that has a password', async () => {
      const user = await passwordUser();
      const { socialLogin } = await link(user.token);
      const { metadata, requestId } = traced(user.token);

      await call(identity(), 'unlinkSocialLogin', { provider: 'test-idp' }, metadata);

      expect((await call(identity(), 'listSocialLogins', { userId: '' }, bearer(user.token))).socialLogins).to.deep.equal([]);
      const [event] = await auditEventsOfRequest(requestId);
      expect(event).to.include({ type: 'social_login.unlinked', subject_user_id: user.id });
      expect(event.metadata).to.deep.equal({ provider: 'test-idp', subject: socialLogin!.subject });
    });

    it('refuses to remove the last way to sign in: FAILED_PRECONDITION, LAST_SIGN_IN_METHOD; allows it once another link exists', async () => {
      const user = await providerOnlyUser();
      await expectRpcError(
        call(identity(), 'unlinkSocialLogin', { provider: 'test-idp' }, bearer(user.token)),
        status.FAILED_PRECONDITION,
        {
          reason: 'LAST_SIGN_IN_METHOD',
        },
      );

      await link(user.token, newSubject(), 'other-idp');
      await call(identity(), 'unlinkSocialLogin', { provider: 'test-idp' }, bearer(user.token));

      await expectRpcError(
        call(identity(), 'unlinkSocialLogin', { provider: 'other-idp' }, bearer(user.token)),
        status.FAILED_PRECONDITION,
        {
          reason: 'LAST_SIGN_IN_METHOD',
        },
      );
      const { socialLogins } = await call(identity(), 'listSocialLogins', { userId: '' }, bearer(user.token));
      expect(socialLogins.map((l) => l.provider)).to.deep.equal(['other-idp']);
    });

    it('answers NOT_FOUND for a provider that is not linked, INVALID_ARGUMENT for an empty one', async () => {
      const user = await passwordUser();
      await expectRpcError(
        call(identity(), 'unlinkSocialLogin', { provider: 'test-idp' }, bearer(user.token)),
        status.NOT_FOUND,
        {
          reason: 'SOCIAL_LOGIN_NOT_FOUND',
        },
      );
      await expectRpcError(call(identity(), 'unlinkSocialLogin', { provider: '' }, bearer(user.token)), status.INVALID_ARGUMENT, {
        fields: ['provider'],
      });
    });
  });
});
