import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { DEFAULT_PASSWORD, registerUser, signedInUser, sql, uniqueEmail } from '../helpers/fixtures.js';
import { emailIndexOf } from '../helpers/email-index.js';
import { harness } from '../helpers/harness.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, BOOTSTRAP_ADMIN, call } from '../helpers/server.js';

/** Format (Cf) and control (Cc) characters an attacker hides in an address. */
const HIDDEN: [string, string][] = [
  ['U+200B zero-width space', '\u200B'],
  ['U+202E right-to-left override', '\u202E'],
  ['U+00AD soft hyphen', '\u00AD'],
  ['U+2060 word joiner', '\u2060'],
  ['U+0007 bell (Cc)', '\u0007'],
  ['U+001B escape (Cc)', '\u001B'],
  ['U+0085 next line (Cc)', '\u0085'],
];

const auth = () => harness().server.auth;
const register = (email: string, password = DEFAULT_PASSWORD) => call(auth(), 'register', { email, password, fullName: '' });

/**
 * Attack 9 of issue 9: invisible characters in an address make look-alike
 * duplicate accounts, and a NUL byte reaches PostgreSQL and is answered as an
 * outage (UNAVAILABLE) instead of a bad request.
 */
describe('Attack: invisible and NUL characters in string fields', () => {
  for (const [name, char] of HIDDEN) {
    it(`refuses an email with ${name} in the local part: INVALID_ARGUMENT on email`, async () => {
      const local = `victim${randomBytes(4).toString('hex')}`;
      await registerUser({ email: `${local}@example.com` });

      await expectRpcError(register(`${local.slice(0, 3)}${char}${local.slice(3)}@example.com`), status.INVALID_ARGUMENT, {
        fields: ['email'],
      });
    });
  }

  it('refuses a NUL byte in the email of Register and Login: INVALID_ARGUMENT on email', async () => {
    const email = `nul\u0000${uniqueEmail()}`;
    await expectRpcError(register(email), status.INVALID_ARGUMENT, { fields: ['email'] });
    await expectRpcError(call(auth(), 'login', { email, password: DEFAULT_PASSWORD }), status.INVALID_ARGUMENT, {
      fields: ['email'],
    });
  });

  it('refuses a NUL byte in the password of Register and Login: INVALID_ARGUMENT on password', async () => {
    const password = `${DEFAULT_PASSWORD}\u0000tail`;
    await expectRpcError(register(uniqueEmail(), password), status.INVALID_ARGUMENT, { fields: ['password'] });
    await expectRpcError(call(auth(), 'login', { email: uniqueEmail(), password }), status.INVALID_ARGUMENT, {
      fields: ['password'],
    });
  });

  it('refuses a NUL byte in the email of RequestPasswordReset: INVALID_ARGUMENT on email', async () => {
    await expectRpcError(call(auth(), 'requestPasswordReset', { email: `nul\u0000${uniqueEmail()}` }), status.INVALID_ARGUMENT, {
      fields: ['email'],
    });
  });

  /** Asserts INVALID_ARGUMENT with a violation on `field` or inside it (e.g. profile.preferences.theme). */
  async function expectRefusedField(promise: Promise<unknown>, field: string): Promise<void> {
    const details = await expectRpcError(promise, status.INVALID_ARGUMENT);
    const fields = details.badRequest?.fieldViolations.map((v) => v.field) ?? [];
    expect(
      fields.some((f) => f === field || f.startsWith(`${field}.`)),
      `violations ${JSON.stringify(fields)}`,
    ).to.equal(true);
  }

  it('refuses a NUL byte in profile strings (full_name, a preferences value): INVALID_ARGUMENT on the field', async () => {
    const user = await signedInUser();
    const update = (profile: Record<string, unknown>, path: string) =>
      call(
        harness().server.profile,
        'updateProfile',
        { profile: profile as never, updateMask: [path] },
        bearer(user.accessToken),
      );

    await expectRefusedField(update({ fullName: 'before\u0000after' }, 'full_name'), 'profile.full_name');
    await expectRefusedField(update({ preferences: { theme: 'dark\u0000' } }, 'preferences'), 'profile.preferences');
  });

  it("refuses a NUL byte in a user's app_metadata: INVALID_ARGUMENT on the field", async () => {
    const target = await registerUser();
    const admin = await call(auth(), 'login', BOOTSTRAP_ADMIN);
    const user = { id: target.user.id, email: '', emailVerified: false, role: 0, status: 0, appMetadata: { plan: 'pro\u0000' } };

    await expectRefusedField(
      call(
        harness().server.identity,
        'updateUser',
        { user: user as never, updateMask: ['app_metadata'] },
        bearer(admin.tokens!.accessToken),
      ),
      'user.app_metadata',
    );
  });

  it('does not create a look-alike account beside the real one', async () => {
    const local = `lookalike${randomBytes(4).toString('hex')}`;
    await registerUser({ email: `${local}@example.com` });

    await register(`${local}\u200B@example.com`).catch(() => undefined);

    const indexes = [`${local}@example.com`, `${local}\u200B@example.com`].map(emailIndexOf);
    const rows = await sql<{ email_index: string }>('select email_index from users where email_index = any($1)', [indexes]);
    expect(rows.map((r) => r.email_index)).to.deep.equal([indexes[0]]);
  });
});
