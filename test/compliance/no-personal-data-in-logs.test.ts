import { expect } from 'chai';
import pg from 'pg';
import { randomBytes, randomInt } from 'node:crypto';
import type { MessageTypeDefinition } from '@grpc/proto-loader';
import { Profile } from '../../src/gen/tessera/v1/profile.js';
import { User } from '../../src/gen/tessera/v1/user.js';
import { loadTesseraPackageDefinition, TESSERA_SERVICES } from '../../src/rpc/proto-definitions.js';
import { complianceClient } from '../helpers/audit.js';
import { adminToken, sqlOn } from '../helpers/fixtures.js';
import { startPageTestBed, tokenFromMail, type PageTestBed } from '../helpers/mail.js';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { TestOidcProvider } from '../helpers/oidc-provider.js';
import { bearer, call } from '../helpers/server.js';

/**
 * Request fields that carry personal data or secrets. An ID token carries the
 * provider's email and name claims.
 */
const PERSONAL_FIELDS = new Set([
  'email',
  'new_email',
  'password',
  'current_password',
  'new_password',
  'full_name',
  'phone_number',
  'id_token',
]);

/** Every RPC whose request holds a personal field, which this test sends known values through. */
const COVERED = [
  'AuthService/Register',
  'AuthService/Login',
  'AuthService/RequestEmailChange',
  'AuthService/RequestPasswordReset',
  'AuthService/ResetPassword',
  'AuthService/ChangePassword',
  'AuthService/Reauthenticate',
  'AuthService/DisableTotp',
  'AuthService/LoginWithProvider',
  'ProfileService/UpdateProfile',
  'IdentityService/UpdateUser',
  'IdentityService/LinkSocialLogin',
  'ComplianceService/EraseUser',
];

/**
 * Columns allowed to hold a value in clear, as "table.column": none. The
 * address lives sealed in users.email_ciphertext beside its keyed blind index.
 */
const ALLOWED_CLEAR = new Set<string>();

/** "AuthService/Register" for every RPC whose request (at any depth) has a personal field. */
function rpcsTakingPersonalData(): string[] {
  const definition = loadTesseraPackageDefinition();
  const qualified = (name: string) => (name.replace(/^\./, '').includes('.') ? name.replace(/^\./, '') : `tessera.v1.${name}`);
  const hasPersonalField = (typeName: string, seen: Set<string>): boolean => {
    if (seen.has(typeName) || typeName.startsWith('google.')) return false;
    seen.add(typeName);
    const type = definition[typeName] as MessageTypeDefinition<unknown, unknown> | undefined;
    const fields = (type?.type as { field: { name: string; type: string; typeName: string }[] }).field;
    return fields.some(
      (f) => PERSONAL_FIELDS.has(f.name) || (f.type === 'TYPE_MESSAGE' && hasPersonalField(qualified(f.typeName), seen)),
    );
  };
  const out: string[] = [];
  for (const serviceName of TESSERA_SERVICES) {
    const service = definition[serviceName] as Record<string, { path: string; requestType: { type: { name: string } } }>;
    for (const method of Object.values(service)) {
      if (hasPersonalField(qualified(method.requestType.type.name), new Set())) out.push(method.path.replace('/tessera.v1.', ''));
    }
  }
  return out;
}

describe('no personal data in logs, audit metadata or other tables', function () {
  this.timeout(120_000);
  let bed: PageTestBed;
  let idp: TestOidcProvider;
  const tag = randomBytes(4).toString('hex');
  /** The known values, unique to this run so any sighting is ours. */
  const person = {
    email: `sweep.${tag}@example.com`,
    newEmail: `moved.${tag}@example.com`,
    adminSetEmail: `admin.set.${tag}@example.com`,
    providerEmail: `provider.${tag}@example.com`,
    password: `Sweep passphrase ${tag}`,
    changedPassword: `Changed passphrase ${tag}`,
    resetPassword: `Reset passphrase ${tag}`,
    wrongPassword: `Wrong passphrase ${tag}`,
    fullName: `Zebulon Sweepstake ${tag}`,
    providerName: `Grace Sweepwell ${tag}`,
    phone: `+35191${randomInt(1_000_000, 9_999_999)}`,
  };
  /** Every string that must not be found in clear: each value, the local parts and the phone's digits. */
  const needles = (): string[] => {
    const values = Object.values(person);
    const localParts = [person.email, person.newEmail, person.adminSetEmail, person.providerEmail].map((e) => e.split('@')[0]);
    return [...values, ...localParts, person.phone.slice(1)];
  };

  before(async () => {
    idp = await TestOidcProvider.start();
    bed = await startPageTestBed({
      LOG_LEVEL: 'debug',
      OIDC_PROVIDERS: JSON.stringify([idp.config('test-idp')]),
      OIDC_JWKS_COOLDOWN_SECONDS: '0',
    });
  });

  after(async () => {
    await bed?.close();
    await idp?.close();
  });

  it('covers every RPC whose request takes a personal field (add a new one here, with its calls below)', () => {
    expect(rpcsTakingPersonalData()).to.have.members(COVERED);
  });

  it('sends known values through every such RPC, on success and failure paths, and finds them nowhere in clear', async () => {
    const { auth, profile, identity } = bed.server;
    const attempt = (promise: Promise<unknown>) =>
      promise.then(
        () => 'ok',
        () => 'refused',
      );

    // Register: success, then the same address again, then a password equal to the address.
    const registered = await call(auth, 'register', {
      email: person.email,
      password: person.password,
      fullName: person.fullName,
    });
    const userId = registered.user!.id;
    await attempt(call(auth, 'register', { email: person.email, password: person.password, fullName: person.fullName }));
    await attempt(call(auth, 'register', { email: person.newEmail, password: person.newEmail, fullName: person.fullName }));

    // Login: wrong password, then right.
    await attempt(call(auth, 'login', { email: person.email, password: person.wrongPassword }));
    const login = await call(auth, 'login', { email: person.email, password: person.password });
    const md = bearer(login.tokens!.accessToken);

    // UpdateProfile: valid name and phone, an invalid phone holding the number, a stale etag.
    const { etag } = (await call(profile, 'getProfile', { userId: '' }, md)).profile!;
    await call(
      profile,
      'updateProfile',
      {
        profile: Profile.fromPartial({ fullName: person.fullName, phoneNumber: person.phone }),
        updateMask: ['full_name', 'phone_number'],
      },
      md,
    );
    await attempt(
      call(
        profile,
        'updateProfile',
        { profile: Profile.fromPartial({ phoneNumber: `${person.phone}99999` }), updateMask: ['phone_number'] },
        md,
      ),
    );
    await attempt(
      call(
        profile,
        'updateProfile',
        { profile: Profile.fromPartial({ fullName: person.fullName, etag }), updateMask: ['full_name'] },
        md,
      ),
    );

    // Reauthenticate: wrong password, then right; DisableTotp without a factor, holding the password (refused).
    await attempt(call(auth, 'reauthenticate', { currentPassword: person.wrongPassword, code: '' }, md));
    await call(auth, 'reauthenticate', { currentPassword: person.password, code: '' }, md);
    await attempt(call(auth, 'disableTotp', { code: '123456', currentPassword: person.password }, md));

    // RequestEmailChange: wrong password, then right.
    await attempt(call(auth, 'requestEmailChange', { newEmail: person.newEmail, currentPassword: person.wrongPassword }, md));
    await call(auth, 'requestEmailChange', { newEmail: person.newEmail, currentPassword: person.password }, md);

    // ChangePassword: wrong current password, then right.
    await attempt(
      call(auth, 'changePassword', { currentPassword: person.wrongPassword, newPassword: person.changedPassword }, md),
    );
    await call(auth, 'changePassword', { currentPassword: person.password, newPassword: person.changedPassword }, md);

    // RequestPasswordReset for a known and an unknown address; ResetPassword with a bad token, then the mailed one.
    await call(auth, 'requestPasswordReset', { email: person.email });
    await call(auth, 'requestPasswordReset', { email: `nobody.${tag}@example.com` });
    await attempt(call(auth, 'resetPassword', { token: 'not-a-token', newPassword: person.resetPassword }));
    const token = await resetTokenMailedTo(bed, person.email);
    await call(auth, 'resetPassword', { token, newPassword: person.resetPassword });
    const relogin = await call(auth, 'login', { email: person.email, password: person.resetPassword });
    const md2 = bearer(relogin.tokens!.accessToken);

    // LoginWithProvider creates an account from the provider's email and name; a forged token fails.
    const claims = { email: person.providerEmail, email_verified: true, name: person.providerName };
    await call(auth, 'loginWithProvider', { provider: 'test-idp', idToken: await idp.idToken(`sub-${tag}`, claims) });
    await attempt(
      call(auth, 'loginWithProvider', { provider: 'test-idp', idToken: `${await idp.idToken(`sub-${tag}`, claims)}x` }),
    );
    // LinkSocialLogin: the provider identity is taken by the account above, so this link is refused.
    await attempt(
      call(identity, 'linkSocialLogin', { provider: 'test-idp', idToken: await idp.idToken(`sub-${tag}`, claims) }, md2),
    );
    await call(identity, 'linkSocialLogin', { provider: 'test-idp', idToken: await idp.idToken(`sub2-${tag}`, claims) }, md2);

    // UpdateUser by an administrator: email is output only there (ignored), and naming it in the mask is refused.
    const admin = bearer(await adminToken(bed.server));
    const adminSet = User.fromPartial({ id: userId, email: person.adminSetEmail, emailVerified: true });
    await call(identity, 'updateUser', { user: adminSet, updateMask: ['email_verified'] }, admin);
    await attempt(call(identity, 'updateUser', { user: adminSet, updateMask: ['email'] }, admin));

    // EraseUser with a wrong current password (refused: the account stays, so the sweep sees its rows).
    const compliance = complianceClient(bed.server.address);
    try {
      await attempt(call(compliance, 'eraseUser', { userId, reason: 'sweep', currentPassword: person.wrongPassword }, md2));
    } finally {
      compliance.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 300)); // let the outbox worker log its deliveries

    const leaks: string[] = [];
    const logs = bed.server.logs.text();
    expect(bed.server.env.LOG_LEVEL).to.equal('debug'); // everything the server logs, down to debug, is captured
    expect(bed.server.logs.lines.length).to.be.greaterThan(0);
    for (const needle of needles()) {
      if (logs.toLowerCase().includes(needle.toLowerCase())) leaks.push(`logs: ${needle}`);
    }
    const metadata = await sqlOn<{ m: string }>(
      bed.server,
      `select coalesce(string_agg(metadata::text, '\n'), '') as m from audit_events`,
    );
    for (const needle of needles()) {
      if (metadata[0].m.toLowerCase().includes(needle.toLowerCase())) leaks.push(`audit metadata: ${needle}`);
    }
    for (const { where, needle } of await findInTables(bed, needles())) {
      if (!ALLOWED_CLEAR.has(where)) leaks.push(`${where}: ${needle}`);
    }
    expect(leaks).to.deep.equal([]);
  });
});

/** Where each of `needles` occurs in any text, JSON or bytea column of any table (case-insensitive), as "table.column: needle". */
async function findInTables(bed: PageTestBed, needles: string[]): Promise<{ where: string; needle: string }[]> {
  const client = new pg.Client({ connectionString: bed.server.env.DATABASE_URL });
  await client.connect();
  try {
    const { rows: columns } = await client.query<{ table_name: string; column_name: string; data_type: string }>(
      `select c.table_name, c.column_name, c.data_type from information_schema.columns c
         join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
        where c.table_schema = 'public' and t.table_type = 'BASE TABLE'
          and c.data_type in ('text', 'character varying', 'character', 'json', 'jsonb', 'bytea', 'ARRAY')`,
    );
    expect(columns.length).to.be.greaterThan(10);
    const found: { where: string; needle: string }[] = [];
    for (const c of columns) {
      const value = c.data_type === 'bytea' ? `encode("${c.column_name}", 'escape')` : `"${c.column_name}"::text`;
      const { rows } = await client.query<{ needle: string }>(
        `select needle from unnest($1::text[]) as needle
          where exists (select 1 from "${c.table_name}" where position(lower(needle) in lower(${value})) > 0)`,
        [needles],
      );
      for (const row of rows) found.push({ where: `${c.table_name}.${c.column_name}`, needle: row.needle });
    }
    return found;
  } finally {
    await client.end();
  }
}

/** The token of the password reset mail to `address` (other mail, such as the password-changed notice, is skipped). */
async function resetTokenMailedTo(bed: PageTestBed, address: string): Promise<string> {
  const dir = join(bed.server.env.TESSERA_DATA_DIR, 'mail');
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    for (const file of existsSync(dir) ? readdirSync(dir) : []) {
      const mail = await simpleParser(readFileSync(join(dir, file)));
      const to = JSON.stringify(mail.to ?? '');
      if (to.includes(address) && /reset-password\?token=/.test(mail.text ?? '')) return tokenFromMail(mail);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no password reset mail to ${address}`);
}
