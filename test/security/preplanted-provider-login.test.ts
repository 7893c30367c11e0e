import { status, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { uniqueEmail } from '../helpers/fixtures.js';
import { startMailTestBed, tokenFromMail, type MailTestBed } from '../helpers/mail.js';
import { TestOidcProvider } from '../helpers/oidc-provider.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, call } from '../helpers/server.js';

const ATTACKER_PASSWORD = 'the squatter set this one';
const OWNER_PASSWORD = 'the rightful owner chose this';

/**
 * Attack 1 of issue 9: the attacker registers the victim's address before
 * the victim does (never verifying it) and plants a provider identity of
 * their own on it. The victim later takes the account over by mail and
 * believes it is theirs; the attacker's provider login must not still open it.
 */
describe('Attack: a provider login pre-planted on an unverified account', function () {
  this.timeout(30_000);
  let bed: MailTestBed;
  let idp: TestOidcProvider;

  before(async () => {
    idp = await TestOidcProvider.start();
    bed = await startMailTestBed({ OIDC_PROVIDERS: JSON.stringify([idp.config('test-idp')]), OIDC_JWKS_COOLDOWN_SECONDS: '0' });
  });

  after(async () => {
    await bed.close();
    await idp.close();
  });

  const auth = () => bed.server.auth;
  const login = (email: string, password: string) => call(auth(), 'login', { email, password });
  /** The attacker's own account at the provider: their own, verified address there. */
  const attackerIdentity = () => ({ sub: `sub-${randomBytes(8).toString('hex')}`, email: uniqueEmail('attacker') });
  const providerLogin = async (sub: string, claims: Record<string, unknown>) =>
    call(auth(), 'loginWithProvider', { provider: 'test-idp', idToken: await idp.idToken(sub, claims) });

  /** The attacker registers `victimEmail`, signs in and tries to link their provider identity. */
  async function squat(victimEmail: string, identity: { sub: string; email: string }) {
    await call(auth(), 'register', { email: victimEmail, password: ATTACKER_PASSWORD, fullName: 'Squatter' });
    const session = await login(victimEmail, ATTACKER_PASSWORD);
    const idToken = await idp.idToken(identity.sub, { email: identity.email, email_verified: true });
    const linked = await call(
      bed.server.identity,
      'linkSocialLogin',
      { provider: 'test-idp', idToken },
      bearer(session.tokens!.accessToken),
    );
    return linked;
  }

  /** The owner takes the address back through the mailed reset link; returns the account id and a session. */
  async function ownerResets(victimEmail: string) {
    const seen = bed.smtp.to(victimEmail).length;
    await call(auth(), 'requestPasswordReset', { email: victimEmail });
    while (bed.smtp.to(victimEmail).length <= seen) await new Promise((r) => setTimeout(r, 20));
    await call(auth(), 'resetPassword', { token: tokenFromMail(bed.smtp.to(victimEmail).at(-1)!), newPassword: OWNER_PASSWORD });
    const res = await login(victimEmail, OWNER_PASSWORD);
    return { userId: res.user!.id, accessToken: res.tokens!.accessToken };
  }

  /** The attacker's provider login either fails or opens an account that is not the owner's. */
  async function expectLockedOut(attempt: Promise<{ user?: { id: string } }>, ownerId: string): Promise<void> {
    const result = await attempt.then(
      (res) => res.user?.id,
      (err: ServiceError) => `refused: ${status[err.code]}`,
    );
    expect(result, "the attacker's provider login opened the owner's account").to.not.equal(ownerId);
  }

  it('refuses LinkSocialLogin on an account whose email was never verified: FAILED_PRECONDITION, EMAIL_NOT_VERIFIED', async () => {
    await expectRpcError(squat(uniqueEmail('victim'), attackerIdentity()), status.FAILED_PRECONDITION, {
      reason: 'EMAIL_NOT_VERIFIED',
    });
  });

  it("removes a link planted before the owner's password reset: the attacker's provider login no longer opens the account", async () => {
    const victimEmail = uniqueEmail('victim');
    const identity = attackerIdentity();
    await squat(victimEmail, identity).catch(() => undefined);
    await expectRpcError(
      call(auth(), 'register', { email: victimEmail, password: OWNER_PASSWORD, fullName: 'Owner' }),
      status.ALREADY_EXISTS,
    );

    const owner = await ownerResets(victimEmail);

    const { socialLogins } = await call(bed.server.identity, 'listSocialLogins', { userId: '' }, bearer(owner.accessToken));
    expect(
      socialLogins.map((l) => l.subject),
      "provider links left on the owner's account",
    ).to.deep.equal([]);
    await expectLockedOut(providerLogin(identity.sub, { email: identity.email, email_verified: true }), owner.userId);
  });

  it('lets a provider sign-in without email_verified claim no address: the owner gets the account, the attacker not', async () => {
    const victimEmail = uniqueEmail('victim');
    const sub = `sub-${randomBytes(8).toString('hex')}`;
    // A provider that lets anyone enter any address, and does not vouch for it.
    await providerLogin(sub, { email: victimEmail }).catch(() => undefined);

    const registered = await call(auth(), 'register', { email: victimEmail, password: OWNER_PASSWORD, fullName: 'Owner' }).then(
      (res) => res.user!.id,
      (err: ServiceError) => {
        expect(status[err.code], 'Register by the owner').to.equal('ALREADY_EXISTS');
        return undefined;
      },
    );
    const ownerId = registered ?? (await ownerResets(victimEmail)).userId;

    expect((await login(victimEmail, OWNER_PASSWORD)).user!.id).to.equal(ownerId);
    await expectLockedOut(providerLogin(sub, { email: victimEmail }), ownerId);
  });
});
