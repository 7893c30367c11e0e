import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { DEFAULT_PASSWORD, registerUser, signedInUser, sqlOn, uniqueEmail } from '../helpers/fixtures.js';
import { startMailTestBed, type MailTestBed } from '../helpers/mail.js';
import { TestOidcProvider } from '../helpers/oidc-provider.js';
import { expectLimited, outcomesOf, tally } from '../helpers/outcomes.js';
import { bearer, call, startSiblingServer, type TestServer } from '../helpers/server.js';

const BURST = 50;
const OK = 'OK';
const RATE_LIMITED = 'RESOURCE_EXHAUSTED/RATE_LIMITED';
/** Limits a test does not exercise, set out of the way so only the one under test can refuse. */
const GENEROUS = {
  RATE_LIMIT_REGISTER_PER_IP: '100000',
  RATE_LIMIT_PASSWORD_RESET_PER_IP: '100000',
  RATE_LIMIT_EMAIL_VERIFICATION_PER_IP: '100000',
  RATE_LIMIT_PROVIDER_LOGIN_PER_IP: '100000',
  MAIL_MAX_PER_ADDRESS_PER_HOUR: '100000',
  PASSWORD_HASH_QUEUE_TIMEOUT_MS: '60000',
};

const burst = <T>(make: (i: number) => Promise<T>) => outcomesOf(Array.from({ length: BURST }, (_, i) => make(i)));

/**
 * Attack 10 of issue 9: the anonymous RPCs cost a full password hash or a
 * mail each, and nothing limits how often one address calls them.
 */
describe('Attack: anonymous floods from one address', function () {
  this.timeout(120_000);

  describe('per-IP limits', () => {
    let server: TestServer | undefined;
    let provider: TestOidcProvider | undefined;
    afterEach(async () => {
      await server?.close();
      await provider?.close();
      server = provider = undefined;
    });

    it(`Register: at most 10 of ${BURST} concurrent calls succeed, the rest RATE_LIMITED with RetryInfo`, async () => {
      server = await startSiblingServer({ ...GENEROUS, RATE_LIMIT_REGISTER_PER_IP: '10', RATE_LIMIT_WINDOW_SECONDS: '3600' });
      const srv = server;

      const outcomes = await burst(() =>
        call(srv.auth, 'register', { email: uniqueEmail('flood'), password: DEFAULT_PASSWORD, fullName: '' }),
      );

      expectLimited(outcomes, OK, RATE_LIMITED, 10);
    });

    it(`RequestPasswordReset: at most 5 of ${BURST} concurrent calls succeed, the rest RATE_LIMITED`, async () => {
      server = await startSiblingServer({ ...GENEROUS, RATE_LIMIT_PASSWORD_RESET_PER_IP: '5' });
      const srv = server;
      const known = await registerUser({ server: srv });

      const outcomes = await burst((i) =>
        call(srv.auth, 'requestPasswordReset', { email: i % 2 ? known.email : uniqueEmail('nobody') }),
      );

      expectLimited(outcomes, OK, RATE_LIMITED, 5);
    });

    it(`RequestEmailVerification: at most 5 of ${BURST} concurrent calls succeed, the rest RATE_LIMITED`, async () => {
      server = await startSiblingServer({ ...GENEROUS, RATE_LIMIT_EMAIL_VERIFICATION_PER_IP: '5' });
      const srv = server;
      const users = await Promise.all(Array.from({ length: BURST }, () => signedInUser({ server: srv })));

      const outcomes = await burst((i) => call(srv.auth, 'requestEmailVerification', {}, bearer(users[i].accessToken)));

      expectLimited(outcomes, OK, RATE_LIMITED, 5);
    });

    it(`LoginWithProvider: at most 5 of ${BURST} concurrent calls succeed, the rest RATE_LIMITED`, async () => {
      provider = await TestOidcProvider.start();
      const idp = provider;
      server = await startSiblingServer({
        ...GENEROUS,
        RATE_LIMIT_PROVIDER_LOGIN_PER_IP: '5',
        OIDC_PROVIDERS: JSON.stringify([idp.config('test-idp')]),
      });
      const srv = server;
      const idTokens = await Promise.all(
        Array.from({ length: BURST }, () =>
          idp.idToken(`sub-${randomBytes(8).toString('hex')}`, { email: uniqueEmail('flood'), email_verified: true }),
        ),
      );

      const outcomes = await burst((i) => call(srv.auth, 'loginWithProvider', { provider: 'test-idp', idToken: idTokens[i] }));

      expectLimited(outcomes, OK, RATE_LIMITED, 5);
    });
  });

  describe('per-address mail limits', () => {
    const MAIL_MAX = 3;
    const REQUESTS = 20;
    let bed: MailTestBed;
    before(async () => {
      bed = await startMailTestBed({ ...GENEROUS, MAIL_MAX_PER_ADDRESS_PER_HOUR: String(MAIL_MAX) });
    });
    after(() => bed.close());

    /** Delivers every queued mail, so what was not sent was never queued. */
    async function deliverAll(): Promise<void> {
      const pending = async () =>
        (
          await sqlOn<{ count: number }>(bed.server, `select count(*)::int as count from email_outbox where status = 'pending'`)
        )[0].count;
      for (let run = 0; run < 20; run++) {
        await bed.server.tessera.outbox.runOnce();
        if ((await pending()) === 0) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`mail still pending after 20 delivery runs`);
    }

    it(`RequestPasswordReset: ${REQUESTS} calls for one address all answer OK, alike for an unknown one; at most ${MAIL_MAX} mails`, async () => {
      const { email } = await registerUser({ server: bed.server });
      const unknown = uniqueEmail('nobody');
      const reset = (address: string) => call(bed.server.auth, 'requestPasswordReset', { email: address });

      const known = await outcomesOf(Array.from({ length: REQUESTS }, () => reset(email)));
      const missing = await outcomesOf(Array.from({ length: REQUESTS }, () => reset(unknown)));
      await deliverAll();

      expect(tally(known)).to.deep.equal({ OK: REQUESTS });
      expect(tally(missing)).to.deep.equal({ OK: REQUESTS });
      const mails = bed.smtp.to(email).length;
      expect(mails, `reset mails delivered to one address`).to.be.within(1, MAIL_MAX);
      expect(bed.smtp.to(unknown)).to.have.length(0);
    });

    it(`RequestEmailVerification: ${REQUESTS} calls of one user all answer OK; at most ${MAIL_MAX} mails`, async () => {
      const user = await signedInUser({ server: bed.server });

      const outcomes = await outcomesOf(
        Array.from({ length: REQUESTS }, () => call(bed.server.auth, 'requestEmailVerification', {}, bearer(user.accessToken))),
      );
      await deliverAll();

      expect(tally(outcomes)).to.deep.equal({ OK: REQUESTS });
      expect(bed.smtp.to(user.email).length, 'verification mails delivered to one address').to.be.within(1, MAIL_MAX);
    });
  });
});
