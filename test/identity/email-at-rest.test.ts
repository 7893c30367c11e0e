import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { adminToken, DEFAULT_PASSWORD, registerUser, signedInUser, sql, uniqueEmail } from '../helpers/fixtures.js';
import { findEverywhere } from '../helpers/database-sweep.js';
import { emailIndexOf } from '../helpers/email-index.js';
import { harness } from '../helpers/harness.js';
import { startMailTestBed } from '../helpers/mail.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, call } from '../helpers/server.js';

interface UserRow {
  email_index: string;
  email_ciphertext: string;
}

describe('Email addresses at rest', function () {
  this.timeout(60_000);

  it('are stored as a blind index and a ciphertext only, while the API returns the address', async () => {
    const local = `Ada.${randomBytes(5).toString('hex')}`;
    const typed = `${local}@Example.COM`;
    const email = typed.toLowerCase();
    const { user } = await registerUser({ email: typed });
    expect(user.email, 'Register answers the normalized address').to.equal(email);

    const [row] = await sql<UserRow>('select email_index, email_ciphertext from users where id = $1', [user.id]);
    expect(row!.email_index).to.equal(emailIndexOf(email));
    expect(row!.email_ciphertext).to.match(/^v1\./);
    expect(await findEverywhere(local), 'the address in clear, anywhere').to.deep.equal([]);

    const admin = await adminToken();
    const got = await call(harness().server.identity, 'getUser', { userId: user.id }, bearer(admin));
    expect(got.user!.email).to.equal(email);
    const login = await call(harness().server.auth, 'login', { email: typed.toUpperCase(), password: DEFAULT_PASSWORD });
    expect(login.user!.email).to.equal(email);
    const listed = await call(
      harness().server.identity,
      'listUsers',
      { pageSize: 10, pageToken: '', filter: `email = "${typed}"`, showDeleted: false },
      bearer(admin),
    );
    expect(listed.users.map((u) => [u.id, u.email])).to.deep.equal([[user.id, email]]);
  });

  it('lets exactly one of concurrent registrations of one address win, whatever its letter case or Unicode form', async () => {
    const local = `race${randomBytes(5).toString('hex')}`;
    // NFKC folds the fullwidth letters, lower-casing the capitals: all five are one address.
    const fullwidth = String.fromCodePoint(0xff52, 0xff41, 0xff43, 0xff45) + local.slice(4);
    const variants = [`${local}@example.com`, `${local.toUpperCase()}@EXAMPLE.COM`, `${fullwidth}@example.com`];
    variants.push(`${local[0]!.toUpperCase()}${local.slice(1)}@Example.com`, ` ${local}@example.com `);

    const outcomes = await Promise.allSettled(
      variants.map((email) => call(harness().server.auth, 'register', { email, password: DEFAULT_PASSWORD, fullName: '' })),
    );

    expect(outcomes.filter((o) => o.status === 'fulfilled')).to.have.length(1);
    for (const o of outcomes) {
      if (o.status === 'rejected')
        await expectRpcError(Promise.reject(o.reason), status.ALREADY_EXISTS, { reason: 'EMAIL_TAKEN' });
    }
    expect(await sql('select id from users where email_index = $1', [emailIndexOf(`${local}@example.com`)])).to.have.length(1);
    // The losers' data keys committed in the key store before their transactions rolled back: orphans,
    // opening nothing, pruned a day later (test/compliance/key-store.test.ts).
  });

  it('keeps the new address of a pending email change sealed until the link is used', async () => {
    const bed = await startMailTestBed();
    try {
      const user = await signedInUser({ server: bed.server });
      const newEmail = uniqueEmail('sealed-move');
      await call(bed.server.auth, 'requestEmailChange', { newEmail, currentPassword: user.password }, bearer(user.accessToken));
      const [token] = await sql<{ email_index: string; email_ciphertext: string }>(
        `select email_index, email_ciphertext from one_time_tokens where user_id = $1 and purpose = 'email_change'`,
        [user.user!.id],
        bed.db,
      );
      expect(token!.email_index).to.equal(emailIndexOf(newEmail));
      expect(token!.email_ciphertext).to.match(/^v1\./);
      // Only the mail queued for delivery carries it, encrypted under the master key.
      expect(await findEverywhere(newEmail, bed.db)).to.deep.equal([]);
      expect(await findEverywhere(user.email, bed.db)).to.deep.equal([]);
    } finally {
      await bed.close();
    }
  });
});
