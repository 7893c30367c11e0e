import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { hashBearerSecret } from '../../src/crypto/random.js';
import { registerUser, signedInUser, sql, uniqueEmail } from '../helpers/fixtures.js';
import { startMailTestBed, tokenFromMail, type MailTestBed } from '../helpers/mail.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, call } from '../helpers/server.js';

const NEW_PASSWORD = 'a brand new passphrase';

describe('AuthService.RequestPasswordReset and ResetPassword', () => {
  let bed: MailTestBed;
  before(async () => {
    bed = await startMailTestBed();
  });
  after(() => bed.close());
  afterEach(() => bed.server.clock.reset());

  const requestReset = (email: string) => call(bed.server.auth, 'requestPasswordReset', { email });
  const reset = (token: string, newPassword = NEW_PASSWORD) => call(bed.server.auth, 'resetPassword', { token, newPassword });
  const login = (email: string, password: string) => call(bed.server.auth, 'login', { email, password });

  async function mailedToken(email: string): Promise<string> {
    await requestReset(email);
    return tokenFromMail(await bed.smtp.waitFor(email));
  }

  it('answers a known and an unknown address alike, and mails only the known one', async () => {
    const { email } = await registerUser({ server: bed.server });
    const unknown = uniqueEmail('nobody');

    const known = await requestReset(email);
    const missing = await requestReset(unknown);

    expect(known).to.deep.equal(missing);
    const mail = await bed.smtp.waitFor(email);
    expect(mail.subject).to.equal('Reset your password');
    expect(mail.text).to.include('https://id.example.test/reset-password?token=tpr_');
    await bed.server.tessera.outbox.runOnce();
    expect(bed.smtp.to(unknown)).to.have.length(0);
  });

  it('takes the same time for a known and an unknown address (medians within a factor of 2)', async function () {
    this.timeout(30_000);
    const { email } = await registerUser({ server: bed.server });
    const timeOf = async (address: string) => {
      const started = process.hrtime.bigint();
      await requestReset(address);
      return Number(process.hrtime.bigint() - started) / 1e6;
    };
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 15; i++) {
      known.push(await timeOf(email));
      unknown.push(await timeOf(uniqueEmail('nobody')));
    }
    const [k, u] = [median(known), median(unknown)];
    expect(Math.max(k, u) / Math.min(k, u), `known ${k.toFixed(1)} ms, unknown ${u.toFixed(1)} ms`).to.be.below(2);
  });

  it('refuses a malformed address with INVALID_ARGUMENT naming email', async () => {
    await expectRpcError(requestReset('not-an-address'), status.INVALID_ARGUMENT, { fields: ['email'] });
  });

  it('sets the new password, with which the user signs in; the old one stops working', async () => {
    const { email, password } = await registerUser({ server: bed.server });
    const token = await mailedToken(email);

    await reset(token);

    await login(email, NEW_PASSWORD);
    await expectRpcError(login(email, password), status.UNAUTHENTICATED, { reason: 'INVALID_CREDENTIALS' });
  });

  it('works once: the same token a second time is refused', async () => {
    const { email } = await registerUser({ server: bed.server });
    const token = await mailedToken(email);
    await reset(token);

    await expectRpcError(reset(token, 'yet another passphrase'), status.INVALID_ARGUMENT, {
      reason: 'INVALID_ONE_TIME_TOKEN',
      fields: ['token'],
    });
    await login(email, NEW_PASSWORD);
  });

  it('refuses a token after 30 minutes', async () => {
    const { email, password } = await registerUser({ server: bed.server });
    const token = await mailedToken(email);

    bed.server.clock.advance(30 * 60 + 1);

    await expectRpcError(reset(token), status.INVALID_ARGUMENT, { reason: 'INVALID_ONE_TIME_TOKEN' });
    bed.server.clock.reset();
    await login(email, password);
  });

  it('supersedes an earlier token when a new one is requested', async () => {
    const { email } = await registerUser({ server: bed.server });
    const first = await mailedToken(email);
    await requestReset(email);
    while (bed.smtp.to(email).length < 2) await new Promise((r) => setTimeout(r, 20));
    const second = tokenFromMail(bed.smtp.to(email).at(-1)!);
    expect(second).to.not.equal(first);

    await expectRpcError(reset(first), status.INVALID_ARGUMENT, { reason: 'INVALID_ONE_TIME_TOKEN' });
    await reset(second);
  });

  it('ends every session of the user: their refresh and access tokens stop working', async () => {
    const signedIn = await signedInUser({ server: bed.server });
    const other = await login(signedIn.email, signedIn.password);
    const token = await mailedToken(signedIn.email);

    const res = await reset(token);

    expect(res.sessionsRevoked).to.equal(2);
    for (const tokens of [signedIn.tokens!, other.tokens!]) {
      await expectRpcError(call(bed.server.auth, 'refreshToken', { refreshToken: tokens.refreshToken }), status.UNAUTHENTICATED);
      await expectRpcError(
        call(bed.server.profile, 'getProfile', { userId: '' }, bearer(tokens.accessToken)),
        status.UNAUTHENTICATED,
        {
          reason: 'SESSION_REVOKED',
        },
      );
    }
  });

  it('applies the password policy to the new password, and leaves the token usable', async () => {
    const { email } = await registerUser({ server: bed.server });
    const token = await mailedToken(email);

    await expectRpcError(reset(token, 'password1'), status.INVALID_ARGUMENT, { fields: ['new_password'] });
    await expectRpcError(reset(token, email), status.INVALID_ARGUMENT, { fields: ['new_password'] });
    await reset(token);
  });

  it('refuses malformed and never-issued tokens alike', async () => {
    for (const token of ['', 'tpr_short', `tpr_${'A'.repeat(43)}`, `tev_${'A'.repeat(43)}`]) {
      await expectRpcError(reset(token), status.INVALID_ARGUMENT, { reason: 'INVALID_ONE_TIME_TOKEN', fields: ['token'] });
    }
  });

  it('stores only the hash of the token, and deletes the mail payload after delivery', async () => {
    const { email, user } = await registerUser({ server: bed.server });
    const token = await mailedToken(email);
    await bed.server.tessera.outbox.runOnce();

    const rows = await sql<{ token_hash: string }>(
      'select token_hash from one_time_tokens where user_id = $1',
      [user.id],
      bed.db,
    );
    expect(rows.map((r) => r.token_hash)).to.include(hashBearerSecret(token));
    expect(JSON.stringify(await sql('select * from one_time_tokens', [], bed.db))).to.not.include(token);
    const outbox = JSON.stringify(await sql('select * from email_outbox', [], bed.db));
    expect(outbox).to.not.include(token);
    expect(outbox, 'the recipient is encrypted, then deleted').to.not.include(email);
  });

  it('records password_reset.requested (without an address) and password_reset.completed, never the token', async () => {
    const { email, user } = await registerUser({ server: bed.server });
    const token = await mailedToken(email);
    await reset(token);

    const events = await sql<{ type: string; metadata: Record<string, unknown> }>(
      `select type, metadata from audit_events where subject_user_id = $1 and type like 'password_reset.%' order by id`,
      [user.id],
      bed.db,
    );
    expect(events.map((e) => e.type)).to.deep.equal(['password_reset.requested', 'password_reset.completed']);
    expect(events[1].metadata).to.deep.equal({ sessions_revoked: 0 });
    const all = JSON.stringify(await sql('select * from audit_events', [], bed.db));
    expect(all).to.not.include(token);
    expect(all).to.not.include('nobody-');
  });
});

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
