import { status, type ServiceError } from '@grpc/grpc-js';
import argon2 from 'argon2';
import { expect } from 'chai';
import { Role, UserStatus } from '../../src/gen/tessera/v1/user.js';
import { DEFAULT_PASSWORD, registerUser, signedInUser, sql, uniqueEmail } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { expectRpcError, decodeDetails } from '../helpers/rpc-errors.js';
import { bearer, call } from '../helpers/server.js';
import { emailIndexOf } from '../helpers/email-index.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function register(email: string, password = DEFAULT_PASSWORD, fullName = 'Test User') {
  return call(harness().server.auth, 'register', { email, password, fullName });
}

/** The highest audit event id so far: a call that writes nothing leaves it unchanged. */
async function lastAuditId(): Promise<bigint> {
  const [row] = await sql<{ id: string }>('select coalesce(max(id), 0)::text as id from audit_events');
  return BigInt(row.id);
}

/** What is stored for an address: users, profiles of those users, audit events naming them. */
async function storedFor(email: string) {
  const users = await sql<{ id: string }>('select id from users where email_index = $1', [emailIndexOf(email)]);
  const ids = users.map((u) => u.id);
  const profiles = await sql('select user_id from user_profiles where user_id = any($1::uuid[])', [ids]);
  const events = await sql('select id from audit_events where subject_user_id = any($1::uuid[])', [ids]);
  return { users: users.length, profiles: profiles.length, events: events.length };
}

describe('AuthService.Register', () => {
  it('creates an active, unverified user with a UUIDv7 id and the normalized email', async () => {
    const local = uniqueEmail('alice').split('@')[0];
    const before = Date.now();
    const { user } = await register(`  ${local.toUpperCase()}@EXAMPLE.com `);

    expect(user).to.not.equal(undefined);
    expect(user!.id).to.match(UUID_V7);
    expect(user!.email).to.equal(`${local}@example.com`);
    expect(user!.emailVerified).to.equal(false);
    expect(user!.role).to.equal(Role.ROLE_USER);
    expect(user!.status).to.equal(UserStatus.USER_STATUS_ACTIVE);
    expect(user!.createdAt).to.be.instanceOf(Date);
    expect(user!.createdAt!.getTime()).to.be.within(before - 5000, Date.now() + 5000);
    expect(user!.lastLoginAt).to.equal(undefined);
  });

  it('creates the profile with the full name in the same call, stored encrypted', async () => {
    const { user, accessToken } = await signedInUser({ fullName: 'Ada Lovelace' });

    const rows = await sql<{ full_name: string }>('select full_name from user_profiles where user_id = $1', [user!.id]);
    expect(rows).to.have.length(1);
    expect(rows[0].full_name).to.match(/^v1\./);
    expect(rows[0].full_name).to.not.include('Ada');
    const { profile } = await call(harness().server.profile, 'getProfile', { userId: '' }, bearer(accessToken));
    expect(profile!.fullName).to.equal('Ada Lovelace');
  });

  it('records a user.registered audit event for the new user', async () => {
    const { user } = await registerUser();

    const events = await sql<{ type: string; metadata: Record<string, unknown> }>(
      'select type, metadata from audit_events where subject_user_id = $1',
      [user.id],
    );
    expect(events.map((e) => e.type)).to.deep.equal(['user.registered']);
    expect(events[0].metadata).to.deep.equal({ role: 'user' });
  });

  it('refuses an email already registered in another letter case with ALREADY_EXISTS and EMAIL_TAKEN', async () => {
    const { email } = await registerUser();
    const auditBefore = await lastAuditId();

    await expectRpcError(register(email.toUpperCase()), status.ALREADY_EXISTS, { reason: 'EMAIL_TAKEN' });

    expect(await storedFor(email)).to.deep.equal({ users: 1, profiles: 1, events: 1 });
    expect(await lastAuditId()).to.equal(auditBefore);
  });

  it('lets exactly one of 10 concurrent registrations of one address succeed', async () => {
    const email = uniqueEmail('race');

    const results = await Promise.allSettled(Array.from({ length: 10 }, () => register(email)));

    const succeeded = results.filter((r) => r.status === 'fulfilled');
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(succeeded).to.have.length(1);
    expect(failed).to.have.length(9);
    for (const { reason } of failed) {
      const details = decodeDetails(reason as ServiceError);
      expect(status[details.code], details.message).to.equal('ALREADY_EXISTS');
      expect(details.errorInfo?.reason).to.equal('EMAIL_TAKEN');
    }
    expect(await storedFor(email)).to.deep.equal({ users: 1, profiles: 1, events: 1 });
  });

  describe('input validation', () => {
    const longDomain = `${'d'.repeat(63)}.${'e'.repeat(63)}.${'f'.repeat(63)}.${'g'.repeat(63)}.com`; // 261 characters with 'a@'
    const cases: { name: string; email?: string; password?: string; fullName?: string; fields: string[] }[] = [
      { name: 'an empty email', email: '', fields: ['email'] },
      { name: 'a malformed email', email: 'not-an-email', fields: ['email'] },
      { name: 'an email without a domain dot', email: 'someone@localhost', fields: ['email'] },
      { name: 'an email longer than 254 characters', email: `a@${longDomain}`, fields: ['email'] },
      { name: 'a local part longer than 64 characters', email: `${'l'.repeat(65)}@example.com`, fields: ['email'] },
      { name: 'a password shorter than 8 characters', password: 'short12', fields: ['password'] },
      { name: 'a password longer than 256 characters', password: 'p'.repeat(257), fields: ['password'] },
      { name: 'a full name longer than 200 characters', fullName: 'n'.repeat(201), fields: ['full_name'] },
      { name: 'a full name with a control character', fullName: 'Ada\u0007Lovelace', fields: ['full_name'] },
      { name: 'a full name with a newline', fullName: 'Ada\nLovelace', fields: ['full_name'] },
      {
        name: 'several bad fields at once',
        email: 'nope',
        password: 'short',
        fullName: 'x'.repeat(201),
        fields: ['email', 'password', 'full_name'],
      },
    ];

    for (const c of cases) {
      it(`refuses ${c.name} with INVALID_ARGUMENT naming ${c.fields.join(', ')}`, async () => {
        const details = await expectRpcError(
          register(c.email ?? uniqueEmail(), c.password ?? DEFAULT_PASSWORD, c.fullName ?? 'Test User'),
          status.INVALID_ARGUMENT,
          { fields: c.fields },
        );
        for (const violation of details.badRequest!.fieldViolations) expect(violation.description).to.not.equal('');
      });
    }

    it('accepts the boundary lengths: 8 and 256 character passwords, a 200 character name, a 64 character local part', async () => {
      await register(uniqueEmail(), '8chars!!', 'n'.repeat(200));
      await register(uniqueEmail(), 'p'.repeat(256));
      await register(`${uniqueEmail('x').split('@')[0].padEnd(64, 'z')}@example.com`);
    });

    it('counts password length in characters, not UTF-16 code units', async () => {
      await register(uniqueEmail(), '\u{1F511}'.repeat(8));
      await register(uniqueEmail(), '\u{1F511}'.repeat(256));
      await expectRpcError(register(uniqueEmail(), '\u{1F511}'.repeat(7)), status.INVALID_ARGUMENT, { fields: ['password'] });
      await expectRpcError(register(uniqueEmail(), '\u{1F511}'.repeat(257)), status.INVALID_ARGUMENT, { fields: ['password'] });
    });

    it('writes nothing for a refused registration', async () => {
      const email = uniqueEmail('refused');
      const auditBefore = await lastAuditId();

      await expectRpcError(register(email, 'short'), status.INVALID_ARGUMENT, { fields: ['password'] });

      expect(await storedFor(email)).to.deep.equal({ users: 0, profiles: 0, events: 0 });
      expect(await lastAuditId()).to.equal(auditBefore);
    });
  });

  describe('password storage', () => {
    it('stores an argon2id hash with m=19456, t=2, p=1', async () => {
      const { user } = await registerUser();

      const [row] = await sql<{ password_hash: string }>('select password_hash from users where id = $1', [user.id]);
      const [, algorithm, version, params, salt, hash] = row.password_hash.split('$');
      expect(algorithm).to.equal('argon2id');
      expect(version).to.equal('v=19');
      expect(Object.fromEntries(params.split(',').map((kv) => kv.split('=')))).to.deep.equal({ m: '19456', t: '2', p: '1' });
      expect(salt).to.have.length.greaterThan(0);
      expect(hash).to.have.length.greaterThan(0);
    });

    it('peppers the hash: it verifies only with the server secret', async () => {
      const { user, password } = await registerUser();
      const [row] = await sql<{ password_hash: string }>('select password_hash from users where id = $1', [user.id]);
      const pepper = Buffer.from(harness().server.env.TESSERA_PEPPER, 'base64');

      expect(await argon2.verify(row.password_hash, password)).to.equal(false);
      expect(await argon2.verify(row.password_hash, password, { secret: pepper })).to.equal(true);
    });

    it('normalizes the password with NFKC, so compatibility-equivalent input signs in', async () => {
      const email = uniqueEmail();
      await register(email, '\uFF51\uFF55\uFF49\uFF45\uFF54\uFF4F\uFF54\uFF54\uFF45\uFF52\uFF17'); // fullwidth "quietotter7"

      const res = await call(harness().server.auth, 'login', { email, password: 'quietotter7' });

      expect(res.user!.email).to.equal(email);
    });

    it('never returns the password or its hash', async () => {
      const email = uniqueEmail();
      const password = 'a distinctive passphrase 1234';
      const res = await register(email, password);

      const [row] = await sql<{ password_hash: string }>('select password_hash from users where email_index = $1', [
        emailIndexOf(email),
      ]);
      const body = JSON.stringify(res);
      expect(body).to.not.include(password);
      expect(body).to.not.include(row.password_hash);
      expect(body).to.not.include('argon2');
      expect(Object.keys(res.user!)).to.not.include.members(['password', 'passwordHash']);
    });
  });
});
