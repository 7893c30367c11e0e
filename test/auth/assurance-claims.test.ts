import { expect } from 'chai';
import { status } from '@grpc/grpc-js';
import { decodeJwt, SignJWT } from 'jose';
import { randomBytes } from 'node:crypto';
import { signedInUser, sql, uniqueEmail } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { startOidcTestSetup, type OidcTestSetup } from '../helpers/oidc-provider.js';
import { bearer, call } from '../helpers/server.js';

const auth = () => harness().server.auth;
const introspect = (token: string) => call(auth(), 'introspectToken', { token });
const nowSeconds = () => Math.floor(harness().server.clock.now().getTime() / 1000);

describe('Assurance claims: auth_time, amr and acr', () => {
  afterEach(() => harness().server.clock.reset());

  it('puts the sign-in time and method in the access token after Login, and IntrospectToken returns them', async () => {
    const before = nowSeconds();
    const user = await signedInUser();

    const claims = decodeJwt(user.accessToken);
    expect(claims.auth_time).to.be.within(before, nowSeconds());
    expect(claims.amr).to.deep.equal(['pwd']);
    expect(claims.acr).to.equal('aal1');
    const res = await introspect(user.accessToken);
    expect(res.active).to.equal(true);
    expect(res.authTime!.getTime()).to.equal((claims.auth_time as number) * 1000);
    expect(res.amr).to.deep.equal(['pwd']);
    expect(res.acr).to.equal('aal1');
  });

  it('keeps auth_time, amr and acr through RefreshToken: refreshing is not authenticating', async () => {
    const user = await signedInUser();
    const signedInAt = decodeJwt(user.accessToken).auth_time as number;
    harness().server.clock.advance(700);

    const refreshed = await call(auth(), 'refreshToken', { refreshToken: user.refreshToken });

    const claims = decodeJwt(refreshed.tokens!.accessToken);
    expect(claims.iat).to.be.at.least(signedInAt + 700);
    expect(claims).to.deep.include({ auth_time: signedInAt, amr: ['pwd'], acr: 'aal1' });
    const res = await introspect(refreshed.tokens!.accessToken);
    expect(res.authTime!.getTime()).to.equal(signedInAt * 1000);
  });

  it('gives Reauthenticate a new auth_time, in the token, the introspection and the later refreshes', async () => {
    const user = await signedInUser();
    const signedInAt = decodeJwt(user.accessToken).auth_time as number;
    harness().server.clock.advance(700);

    const res = await call(auth(), 'reauthenticate', { currentPassword: user.password, code: '' }, bearer(user.accessToken));

    const claims = decodeJwt(res.accessToken);
    expect(claims.auth_time).to.be.at.least(signedInAt + 700);
    expect(claims).to.deep.include({ sid: decodeJwt(user.accessToken).sid, amr: ['pwd'], acr: 'aal1' });
    expect(res.authTime!.getTime()).to.equal((claims.auth_time as number) * 1000);
    expect(res).to.deep.include({ amr: ['pwd'], acr: 'aal1' });
    expect((await introspect(res.accessToken)).authTime!.getTime()).to.equal(res.authTime!.getTime());
    const refreshed = await call(auth(), 'refreshToken', { refreshToken: user.refreshToken });
    expect(decodeJwt(refreshed.tokens!.accessToken).auth_time).to.equal(claims.auth_time);
  });

  it('stores the assurance on the session', async () => {
    const user = await signedInUser();
    const [row] = await sql<{ authenticated_at: Date; amr: string[]; acr: string }>(
      'select authenticated_at, amr, acr from sessions where id = $1',
      [decodeJwt(user.accessToken).sid],
    );
    expect(row.amr).to.deep.equal(['pwd']);
    expect(row.acr).to.equal('aal1');
    expect(Math.floor(row.authenticated_at.getTime() / 1000)).to.equal(decodeJwt(user.accessToken).auth_time);
  });

  describe('tokens signed before the claims existed', () => {
    /** The user's token re-signed by the server's own key with `edit` applied to its claims. */
    const resigned = async (accessToken: string, edit: (claims: Record<string, unknown>) => void) => {
      const claims = { ...decodeJwt(accessToken) } as Record<string, unknown>;
      edit(claims);
      const { kid, privateKey } = harness().server.tessera.deps.signingKeys.signer();
      return new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid }).sign(privateKey);
    };

    it('stay valid until they expire, as authenticated at the epoch with nothing: never fresh enough for a step-up', async () => {
      const user = await signedInUser();
      const legacy = await resigned(user.accessToken, (claims) => {
        delete claims.auth_time;
        delete claims.amr;
        delete claims.acr;
      });

      const res = await introspect(legacy);
      expect(res).to.deep.include({ active: true, amr: [], acr: 'aal1' });
      expect(res.authTime).to.equal(undefined);
      await expectRpcError(
        call(
          auth(),
          'changePassword',
          { currentPassword: user.password, newPassword: 'another passphrase entirely' },
          bearer(legacy),
        ),
        status.UNAUTHENTICATED,
        { reason: 'REAUTHENTICATION_REQUIRED' },
      );
    });

    it('are refused when a claim has the wrong type', async () => {
      const user = await signedInUser();
      for (const edit of [
        (claims: Record<string, unknown>) => (claims.amr = 'pwd'),
        (claims: Record<string, unknown>) => (claims.auth_time = 'yesterday'),
        (claims: Record<string, unknown>) => (claims.acr = 2),
      ]) {
        expect((await introspect(await resigned(user.accessToken, edit))).active).to.equal(false);
      }
    });
  });

  describe('provider sign-ins', function () {
    this.timeout(20_000);
    let setup: OidcTestSetup;
    before(async () => {
      setup = await startOidcTestSetup();
    });
    after(() => setup.close());

    const providerLogin = async (extra: Record<string, unknown>) => {
      const idToken = await setup.provider.idToken(`sub-${randomBytes(8).toString('hex')}`, {
        email: uniqueEmail('amr'),
        email_verified: true,
        ...extra,
      });
      const res = await call(setup.server.auth, 'loginWithProvider', { provider: 'test-idp', idToken });
      return decodeJwt(res.tokens!.accessToken);
    };

    it('says "fed" and aal1 when the provider asserts no method', async () => {
      expect(await providerLogin({})).to.deep.include({ amr: ['fed'], acr: 'aal1' });
    });

    it("keeps the provider's RFC 8176 methods, drops the rest, and is aal2 only when they show MFA", async () => {
      expect(await providerLogin({ amr: ['pwd', 'x-custom'] })).to.deep.include({ amr: ['pwd'], acr: 'aal1' });
      expect(await providerLogin({ amr: ['pwd', 'mfa'] })).to.deep.include({ amr: ['pwd', 'mfa'], acr: 'aal2' });
      expect(await providerLogin({ amr: ['pwd', 'hwk'] })).to.deep.include({ amr: ['pwd', 'hwk'], acr: 'aal2' });
    });

    it('counts no email proof and nothing twice from a provider: two knowledge factors stay aal1', async () => {
      expect(await providerLogin({ amr: ['pwd', 'kba'] })).to.deep.include({ acr: 'aal1' });
      expect(await providerLogin({ amr: 'mfa' })).to.deep.include({ amr: ['fed'], acr: 'aal1' });
    });
  });
});
