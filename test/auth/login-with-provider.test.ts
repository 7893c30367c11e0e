import { Metadata, status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { base64url, decodeJwt, SignJWT } from 'jose';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { Role } from '../../src/gen/tessera/v1/user.js';
import { auditEventsOfRequest, registerUser, sql, uniqueEmail } from '../helpers/fixtures.js';
import { makeKey, startOidcTestSetup, type OidcTestSetup } from '../helpers/oidc-provider.js';
import { storedLinks, subjectIndexOf } from '../helpers/provider-links.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, call } from '../helpers/server.js';
import { emailIndexOf } from '../helpers/email-index.js';

const newSubject = () => `sub-${randomBytes(8).toString('hex')}`;

describe('AuthService.LoginWithProvider', function () {
  this.timeout(20_000);
  let setup: OidcTestSetup;
  before(async () => {
    setup = await startOidcTestSetup();
  });
  after(() => setup.close());

  function login(idToken: string, provider = 'test-idp', requestId = randomUUID()) {
    const md = new Metadata();
    md.set('x-request-id', requestId);
    return call(setup.server.auth, 'loginWithProvider', { provider, idToken }, md);
  }

  async function expectRefused(idToken: string, provider = 'test-idp') {
    const requestId = randomUUID();
    await expectRpcError(login(idToken, provider, requestId), status.UNAUTHENTICATED, { reason: 'INVALID_ID_TOKEN' });
    const events = await auditEventsOfRequest(requestId);
    expect(events.map((e) => e.type)).to.deep.equal(['login.failed']);
    expect(events[0].metadata).to.deep.equal({ method: `oidc:${provider}`, reason: 'invalid_id_token' });
    expect(JSON.stringify(events)).to.not.include(idToken);
  }

  describe('first and later sign-ins', () => {
    it('creates a user without a password on the first login, and signs in the same user the second time', async () => {
      const sub = newSubject();
      const email = uniqueEmail('oidc');
      const token = () => setup.provider.idToken(sub, { email, email_verified: true, name: 'Grace Hopper' });
      const requestId = randomUUID();

      const first = await login(await token(), 'test-idp', requestId);

      expect(first.created).to.equal(true);
      expect(first.user!).to.include({ email, emailVerified: true, role: Role.ROLE_USER });
      const [row] = await sql<{ password_hash: string | null }>('select password_hash from users where id = $1', [
        first.user!.id,
      ]);
      expect(row.password_hash).to.equal(null);
      const profile = await call(setup.server.profile, 'getProfile', { userId: '' }, bearer(first.tokens!.accessToken));
      expect(profile.profile!.fullName).to.equal('Grace Hopper');
      const events = await auditEventsOfRequest(requestId);
      expect(events.map((e) => e.type)).to.deep.equal(['user.registered', 'social_login.linked', 'login.succeeded']);
      expect(events[0].metadata).to.deep.equal({ role: 'user', method: 'oidc:test-idp' });
      expect(events[1].metadata).to.deep.equal({ provider: 'test-idp', subject: sub, via: 'first_login' });
      expect(events[2]).to.include({ actor_type: 'user', actor_id: first.user!.id });
      expect(events[2].metadata).to.deep.equal({ method: 'oidc:test-idp', session_id: decodeJwt(first.tokens!.accessToken).sid });

      const second = await login(await token());

      expect(second.created).to.equal(false);
      expect(second.user!.id).to.equal(first.user!.id);
      expect(second.user!.lastLoginAt).to.be.instanceOf(Date);
      const links = await storedLinks(
        'provider = $1 and provider_subject_index = $2',
        ['test-idp', subjectIndexOf('test-idp', sub, setup.server)],
        setup.server,
      );
      expect(links.map((l) => l.subject)).to.deep.equal([sub]);
    });

    it('creates no account when the provider does not assert email_verified: FAILED_PRECONDITION, PROVIDER_EMAIL_NOT_VERIFIED', async () => {
      const email = uniqueEmail('unverified');
      for (const claim of [undefined, false]) {
        await expectRpcError(
          login(await setup.provider.idToken(newSubject(), { email, email_verified: claim })),
          status.FAILED_PRECONDITION,
          { reason: 'PROVIDER_EMAIL_NOT_VERIFIED' },
        );
      }
      expect(
        await sql('select id from users where email_index = $1', [emailIndexOf(email)]),
        'no account claims the address',
      ).to.deep.equal([]);
    });

    it('creates exactly one user when the first two sign-ins of a person race', async () => {
      const sub = newSubject();
      const idToken = await setup.provider.idToken(sub, { email: uniqueEmail('race'), email_verified: true });

      const results = await Promise.all([login(idToken), login(idToken), login(idToken)]);

      expect(new Set(results.map((r) => r.user!.id)).size).to.equal(1);
      expect(results.filter((r) => r.created)).to.have.length(1);
    });

    it('refuses a token without an email claim when no account is linked: FAILED_PRECONDITION, EMAIL_REQUIRED', async () => {
      await expectRpcError(login(await setup.provider.idToken(newSubject())), status.FAILED_PRECONDITION, {
        reason: 'EMAIL_REQUIRED',
      });
    });
  });

  describe('token verification', () => {
    it('refuses a token for another audience', async () => {
      await expectRefused(await setup.provider.idToken(newSubject(), { email: uniqueEmail(), aud: 'someone-else' }));
    });

    it('refuses an expired token', async () => {
      const now = new Date(Date.now() - 3 * 3600 * 1000);
      await expectRefused(await setup.provider.idToken(newSubject(), { email: uniqueEmail() }, { now, expiresInSeconds: 3600 }));
    });

    it('refuses a token signed by a key the provider never published, with a published kid or an unknown one', async () => {
      const { keys } = (await (await fetch(setup.provider.jwksUri)).json()) as { keys: { kid: string }[] };
      const published = keys[0];
      for (const key of [await makeKey(published.kid), await makeKey()]) {
        await expectRefused(await setup.provider.idToken(newSubject(), { email: uniqueEmail() }, { key }));
      }
    });

    it('refuses a token from an unknown issuer, even one signed with a trusted key', async () => {
      await expectRefused(await setup.provider.idToken(newSubject(), { email: uniqueEmail(), iss: 'https://evil.example' }));
    });

    it("refuses another configured provider's token presented as this provider's", async () => {
      await expectRefused(await setup.other.idToken(newSubject(), { email: uniqueEmail() }), 'test-idp');
    });

    it('refuses unsigned (alg none) and HS256 tokens, and garbage', async () => {
      const claims = {
        iss: setup.provider.issuer,
        aud: setup.provider.audience,
        sub: newSubject(),
        iat: Math.floor(Date.now() / 1000),
        exp: Math.floor(Date.now() / 1000) + 600,
      };
      const body = `${base64url.encode(JSON.stringify({ alg: 'none' }))}.${base64url.encode(JSON.stringify(claims))}`;
      await expectRefused(`${body}.`);
      const hsInput = `${base64url.encode(JSON.stringify({ alg: 'HS256' }))}.${base64url.encode(JSON.stringify(claims))}`;
      await expectRefused(`${hsInput}.${createHmac('sha256', setup.provider.audience).update(hsInput).digest('base64url')}`);
      await expectRefused(
        await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('x'.repeat(32))),
      );
      await expectRefused('not.a.jwt');
    });

    it('fetches the JWKS once, keeps it, and refreshes it when the provider rotates to a new kid', async () => {
      const claims = () => ({ email: uniqueEmail(), email_verified: true });
      await login(await setup.provider.idToken(newSubject(), claims()));
      const fetches = setup.provider.jwksFetches;
      await login(await setup.provider.idToken(newSubject(), claims()));
      expect(setup.provider.jwksFetches, 'cached').to.equal(fetches);

      await setup.provider.rotateKey();
      const res = await login(await setup.provider.idToken(newSubject(), claims()));

      expect(res.created).to.equal(true);
      expect(setup.provider.jwksFetches).to.equal(fetches + 1);
    });

    it('answers UNAVAILABLE (PROVIDER_UNAVAILABLE) when the provider keys cannot be fetched', async () => {
      const token = await setup.provider.idToken(newSubject(), { iss: 'https://down.example', aud: 'tessera' });
      await expectRpcError(login(token, 'down-idp'), status.UNAVAILABLE, { reason: 'PROVIDER_UNAVAILABLE' });
    });

    it('refuses an unknown provider name and empty fields with INVALID_ARGUMENT', async () => {
      const details = await expectRpcError(login('x', 'nope'), status.INVALID_ARGUMENT, { fields: ['provider'] });
      expect(details.badRequest!.fieldViolations[0].description).to.contain('test-idp, other-idp, down-idp');
      await expectRpcError(login('', ''), status.INVALID_ARGUMENT, { fields: ['provider', 'id_token'] });
      await expectRpcError(login('x'.repeat(17 * 1024)), status.INVALID_ARGUMENT, { fields: ['id_token'] });
    });
  });

  describe('an existing account with the same email', () => {
    async function passwordAccount(verified: boolean) {
      const registered = await registerUser({ server: setup.server });
      if (verified) await sql('update users set email_verified_at = now() where id = $1', [registered.user.id]);
      return registered;
    }

    it('is linked and signed in when the provider asserts email_verified and the account is verified', async () => {
      const account = await passwordAccount(true);
      const sub = newSubject();
      const requestId = randomUUID();

      const res = await login(
        await setup.provider.idToken(sub, { email: account.email.toUpperCase(), email_verified: true }),
        'test-idp',
        requestId,
      );

      expect(res.created).to.equal(false);
      expect(res.user!.id).to.equal(account.user.id);
      const events = await auditEventsOfRequest(requestId);
      expect(events.map((e) => e.type)).to.deep.equal(['social_login.linked', 'login.succeeded']);
      expect(events[0].metadata).to.include({ via: 'verified_email' });
      // The password still works too.
      await call(setup.server.auth, 'login', { email: account.email, password: account.password });
    });

    it('is not taken over when the provider does not assert email_verified: FAILED_PRECONDITION, PROVIDER_EMAIL_NOT_VERIFIED', async () => {
      const account = await passwordAccount(true);
      const requestId = randomUUID();
      for (const claim of [false, undefined, 'yes']) {
        await expectRpcError(
          login(
            await setup.provider.idToken(newSubject(), { email: account.email, email_verified: claim }),
            'test-idp',
            requestId,
          ),
          status.FAILED_PRECONDITION,
          { reason: 'PROVIDER_EMAIL_NOT_VERIFIED' },
        );
      }
      expect(await sql('select id from social_logins where user_id = $1', [account.user.id])).to.deep.equal([]);
      const events = await auditEventsOfRequest(requestId);
      expect(events.map((e) => e.metadata.reason)).to.deep.equal(Array(3).fill('provider_email_not_verified'));
    });

    it("is not taken over when the account's own email is unverified: FAILED_PRECONDITION, ACCOUNT_EMAIL_NOT_VERIFIED", async () => {
      const account = await passwordAccount(false);
      const details = await expectRpcError(
        login(await setup.provider.idToken(newSubject(), { email: account.email, email_verified: true })),
        status.FAILED_PRECONDITION,
        { reason: 'ACCOUNT_EMAIL_NOT_VERIFIED' },
      );
      expect(details.message).to.contain('LinkSocialLogin');
      expect(await sql('select id from social_logins where user_id = $1', [account.user.id])).to.deep.equal([]);
    });
  });

  describe('account status', () => {
    it('refuses a suspended or deleted linked user with PERMISSION_DENIED, after verifying the token', async () => {
      const sub = newSubject();
      const token = () => setup.provider.idToken(sub, { email: uniqueEmail('status'), email_verified: true });
      const { user } = await login(await token());

      await sql(`update users set status = 'suspended' where id = $1`, [user!.id]);
      await expectRpcError(login(await token()), status.PERMISSION_DENIED, { reason: 'ACCOUNT_SUSPENDED' });
      await sql(`update users set status = 'deleted', deleted_at = now() where id = $1`, [user!.id]);
      await expectRpcError(login(await token()), status.PERMISSION_DENIED, { reason: 'ACCOUNT_DELETED' });
      // An invalid token learns nothing about the status.
      await expectRefused(await setup.provider.idToken(sub, { aud: 'someone-else' }));
    });
  });
});
