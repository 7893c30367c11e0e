import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import argon2 from 'argon2';
import { expect } from 'chai';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { createHash, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DEFAULT_PASSWORD, registerUser, sql, uniqueEmail } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { call, startTestServer, type TestServer } from '../helpers/server.js';

const ACCESS_TTL_SECONDS = 15 * 60;
const REFRESH_TTL_SECONDS = 30 * 24 * 3600;

/** Login with an `x-request-id`, so the audit event of this very call can be found. */
function login(email: string, password: string, requestId = randomUUID()) {
  const md = new Metadata();
  md.set('x-request-id', requestId);
  return call(harness().server.auth, 'login', { email, password }, md);
}

async function auditEventsOfRequest(requestId: string) {
  return sql<{
    type: string;
    subject_user_id: string | null;
    actor_type: string;
    actor_id: string | null;
    metadata: Record<string, unknown>;
  }>('select type, subject_user_id, actor_type, actor_id, metadata from audit_events where request_id = $1 order by id', [
    requestId,
  ]);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function elapsedMs(promise: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await promise().catch(() => undefined);
  return performance.now() - started;
}

describe('AuthService.Login', () => {
  it('returns the user and a Bearer token pair expiring in about 15 minutes and 30 days', async () => {
    const { user, email, password } = await registerUser();
    const before = Date.now();

    const res = await login(email, password);

    expect(res.user!.id).to.equal(user.id);
    expect(res.user!.email).to.equal(email);
    const tokens = res.tokens!;
    expect(tokens.tokenType).to.equal('Bearer');
    expect(tokens.accessToken).to.have.length.greaterThan(0);
    expect(tokens.refreshToken).to.match(/^tsr_[A-Za-z0-9_-]{43}$/);
    const accessIn = (tokens.accessTokenExpiresAt!.getTime() - before) / 1000;
    const refreshIn = (tokens.refreshTokenExpiresAt!.getTime() - before) / 1000;
    expect(accessIn).to.be.within(ACCESS_TTL_SECONDS - 10, ACCESS_TTL_SECONDS + 10);
    expect(refreshIn).to.be.within(REFRESH_TTL_SECONDS - 10, REFRESH_TTL_SECONDS + 10);
  });

  it('issues an EdDSA at+jwt access token that verifies against the JWKS of GetJwks', async () => {
    const { user, email, password } = await registerUser();
    const { tokens } = await login(email, password);
    const { keys } = await call(harness().server.auth, 'getJwks', {});

    const header = decodeProtectedHeader(tokens!.accessToken);
    expect(header.alg).to.equal('EdDSA');
    expect(header.typ).to.equal('at+jwt');
    expect(keys.map((k) => k.kid)).to.include(header.kid);

    const { payload } = await jwtVerify(tokens!.accessToken, createLocalJWKSet({ keys }), {
      algorithms: ['EdDSA'],
      typ: 'at+jwt',
      issuer: 'urn:tessera:test',
      audience: 'tessera-test',
    });
    expect(payload.sub).to.equal(user.id);
    expect(payload.role).to.equal('user');
    expect(payload.sid).to.be.a('string').and.not.equal('');
    expect(payload.jti).to.be.a('string').and.not.equal('');
    expect(payload.exp! - payload.iat!).to.equal(ACCESS_TTL_SECONDS);
    expect(payload.exp! * 1000).to.equal(tokens!.accessTokenExpiresAt!.getTime());

    const [session] = await sql<{ user_id: string }>('select user_id from sessions where id = $1', [payload.sid]);
    expect(session.user_id).to.equal(user.id);
  });

  it('opens a new session on every call', async () => {
    const { email, password } = await registerUser();

    const first = await login(email, password);
    const second = await login(email, password);

    expect(decodeJwt(first.tokens!.accessToken).sid).to.not.equal(decodeJwt(second.tokens!.accessToken).sid);
    expect(first.tokens!.refreshToken).to.not.equal(second.tokens!.refreshToken);
  });

  it('opens a session for each of several concurrent sign-ins of one account', async () => {
    const { user, email, password } = await registerUser();

    const results = await Promise.all(Array.from({ length: 4 }, () => login(email, password)));

    const sids = new Set(results.map((r) => decodeJwt(r.tokens!.accessToken).sid));
    expect(sids.size).to.equal(4);
    const [row] = await sql<{ count: number }>('select count(*)::int as count from sessions where user_id = $1', [user.id]);
    expect(row.count).to.equal(4);
  });

  it('sets last_login_at', async () => {
    const { user, email, password } = await registerUser();
    expect(user.lastLoginAt).to.equal(undefined);

    const res = await login(email, password);

    expect(res.user!.lastLoginAt).to.be.instanceOf(Date);
    expect(res.user!.lastLoginAt!.getTime()).to.be.within(Date.now() - 10_000, Date.now() + 1000);
    const [row] = await sql<{ last_login_at: Date | null }>('select last_login_at from users where id = $1', [user.id]);
    expect(row.last_login_at?.getTime()).to.equal(res.user!.lastLoginAt!.getTime());
  });

  it('writes each of concurrent sign-ins of one account in turn: one version and one stamp each, the session sealed', async () => {
    const { user, email, password } = await registerUser();
    const [before] = await sql<{ version: number }>('select version from users where id = $1', [user.id]);

    const results = await Promise.all(Array.from({ length: 3 }, () => login(email, password)));

    const [after] = await sql<{ version: number; last_login_at: Date; updated_at: Date }>(
      'select version, last_login_at, updated_at from users where id = $1',
      [user.id],
    );
    expect(after.version).to.equal(before.version + 3);
    expect(after.updated_at.getTime()).to.equal(after.last_login_at.getTime());
    const stamps = results.map((r) => r.user!.lastLoginAt!.getTime());
    expect(stamps).to.include(after.last_login_at.getTime());
    expect(results.every((r) => r.user!.updatedAt!.getTime() === r.user!.lastLoginAt!.getTime())).to.equal(true);
    // The client's address is sealed under the user's key, never stored in the clear.
    const sessions = await sql<{ ip: string | null; amr: string[]; acr: string }>(
      'select ip, amr, acr from sessions where user_id = $1',
      [user.id],
    );
    expect(sessions).to.have.length(3);
    for (const s of sessions) {
      expect(s.ip).to.match(/^v1\./);
      expect(s.amr).to.deep.equal(['pwd']);
      expect(s.acr).to.equal('aal1');
    }
  });

  it('matches the email in any letter case and with surrounding spaces', async () => {
    const { user, email, password } = await registerUser();

    const res = await login(`  ${email.toUpperCase()} `, password);

    expect(res.user!.id).to.equal(user.id);
  });

  it('refuses a wrong password and an unknown email alike: UNAUTHENTICATED, INVALID_CREDENTIALS, same message', async () => {
    const { email } = await registerUser();

    const wrongPassword = await expectRpcError(login(email, 'not the password'), status.UNAUTHENTICATED, {
      reason: 'INVALID_CREDENTIALS',
    });
    const unknownEmail = await expectRpcError(login(uniqueEmail('nobody'), DEFAULT_PASSWORD), status.UNAUTHENTICATED, {
      reason: 'INVALID_CREDENTIALS',
    });

    expect(unknownEmail.message).to.equal(wrongPassword.message);
    expect(unknownEmail.errorInfo).to.deep.equal(wrongPassword.errorInfo);
  });

  it('takes about as long for an unknown email as for a wrong password', async function () {
    this.timeout(60_000);
    const { email } = await registerUser();
    const wrongPassword = () => login(email, 'not the password');
    const unknownEmail = () => login(uniqueEmail('nobody'), 'not the password');
    // Warm-up: the first unknown-email call also derives the dummy hash.
    await elapsedMs(wrongPassword);
    await elapsedMs(unknownEmail);

    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 6; i++) {
      known.push(await elapsedMs(wrongPassword));
      unknown.push(await elapsedMs(unknownEmail));
    }

    const ratio = median(known) / median(unknown);
    expect(ratio, `median ms: wrong password ${median(known)}, unknown email ${median(unknown)}`).to.be.within(0.5, 2);
  });

  it('reveals a suspended account only to a caller who knows the password', async () => {
    const { user, email, password } = await registerUser();
    await sql(`update users set status = 'suspended' where id = $1`, [user.id]);

    await expectRpcError(login(email, 'not the password'), status.UNAUTHENTICATED, { reason: 'INVALID_CREDENTIALS' });
    await expectRpcError(login(email, password), status.PERMISSION_DENIED, { reason: 'ACCOUNT_SUSPENDED' });

    const [row] = await sql<{ count: number }>('select count(*)::int as count from sessions where user_id = $1', [user.id]);
    expect(row.count).to.equal(0);
  });

  /** A new account whose hash was made with weaker argon2 parameters than the server's (the pepper as secret). */
  async function userWithWeakHash() {
    const registered = await registerUser();
    const pepper = Buffer.from(harness().server.env.TESSERA_PEPPER, 'base64');
    const weak = await argon2.hash(registered.password, {
      type: argon2.argon2id,
      memoryCost: 8192,
      timeCost: 1,
      parallelism: 1,
      secret: pepper,
    });
    await sql('update users set password_hash = $1 where id = $2', [weak, registered.user.id]);
    return { ...registered, pepper };
  }

  it('upgrades a hash made with weaker argon2 parameters on sign-in', async () => {
    const { user, email, password, pepper } = await userWithWeakHash();
    const requestId = randomUUID();

    await login(email, password, requestId);

    const [row] = await sql<{ password_hash: string }>('select password_hash from users where id = $1', [user.id]);
    const [, algorithm, , params] = row.password_hash.split('$');
    expect(algorithm).to.equal('argon2id');
    expect(params.split(',').sort()).to.deep.equal(['m=19456', 'p=1', 't=2']);
    expect(await argon2.verify(row.password_hash, password, { secret: pepper })).to.equal(true);
    const [event] = await auditEventsOfRequest(requestId);
    expect(event.metadata).to.include({ rehashed: true });
    await login(email, password);
  });

  it('upgrades a weak hash also when the sign-in stops at a second-factor challenge, and stamps nothing yet', async () => {
    const { user, email, password, pepper } = await userWithWeakHash();
    // A confirmed factor: Login answers with a challenge (the secret is never read on this path).
    await sql(
      `insert into totp_factors (user_id, secret_ciphertext, created_at, confirmed_at) values ($1, 'unused', now(), now())`,
      [user.id],
    );
    const [before] = await sql<{ version: number }>('select version from users where id = $1', [user.id]);

    const res = await login(email, password);

    expect(res.mfaChallenge?.challengeId).to.be.a('string').and.not.equal('');
    expect(res.tokens).to.equal(undefined);
    const [row] = await sql<{ password_hash: string; last_login_at: Date | null; version: number }>(
      'select password_hash, last_login_at, version from users where id = $1',
      [user.id],
    );
    expect(row.password_hash.split('$')[3].split(',').sort()).to.deep.equal(['m=19456', 'p=1', 't=2']);
    expect(await argon2.verify(row.password_hash, password, { secret: pepper })).to.equal(true);
    expect(row.last_login_at).to.equal(null);
    expect(row.version).to.equal(before.version + 1);
    const [sessions] = await sql<{ count: number }>('select count(*)::int as count from sessions where user_id = $1', [user.id]);
    expect(sessions.count).to.equal(0);
  });

  describe('audit trail', () => {
    it('records login.failed with reason wrong_password for the user', async () => {
      const { user, email } = await registerUser();
      const requestId = randomUUID();

      await expectRpcError(login(email, 'not the password', requestId), status.UNAUTHENTICATED);

      const events = await auditEventsOfRequest(requestId);
      expect(events).to.have.length(1);
      expect(events[0]).to.include({ type: 'login.failed', subject_user_id: user.id });
      expect(events[0].metadata).to.deep.equal({ method: 'password', reason: 'wrong_password' });
    });

    it('records login.failed with reason unknown_account and no subject', async () => {
      const requestId = randomUUID();
      const email = uniqueEmail('nobody');

      await expectRpcError(login(email, DEFAULT_PASSWORD, requestId), status.UNAUTHENTICATED);

      const events = await auditEventsOfRequest(requestId);
      expect(events).to.have.length(1);
      expect(events[0]).to.include({ type: 'login.failed', subject_user_id: null, actor_type: 'anonymous' });
      expect(events[0].metadata).to.deep.equal({ method: 'password', reason: 'unknown_account' });
      expect(JSON.stringify(events[0])).to.not.include(email);
    });

    it('records login.succeeded with the user as actor and the session id', async () => {
      const { user, email, password } = await registerUser();
      const requestId = randomUUID();

      const { tokens } = await login(email, password, requestId);

      const sid = decodeJwt(tokens!.accessToken).sid;
      const events = await auditEventsOfRequest(requestId);
      expect(events).to.have.length(1);
      expect(events[0]).to.include({ type: 'login.succeeded', subject_user_id: user.id, actor_type: 'user', actor_id: user.id });
      expect(events[0].metadata).to.include({ method: 'password', session_id: sid });
      expect(JSON.stringify(events[0])).to.not.include(password);
    });
  });

  describe('input validation', () => {
    const cases = [
      { name: 'an empty email', email: '', password: DEFAULT_PASSWORD, fields: ['email'] },
      { name: 'an empty password', email: 'someone@example.com', password: '', fields: ['password'] },
      {
        name: 'a password longer than 256 characters',
        email: 'someone@example.com',
        password: 'p'.repeat(257),
        fields: ['password'],
      },
      { name: 'an empty email and password', email: '', password: '', fields: ['email', 'password'] },
    ];
    for (const c of cases) {
      it(`refuses ${c.name} with INVALID_ARGUMENT naming ${c.fields.join(', ')}`, async () => {
        await expectRpcError(login(c.email, c.password), status.INVALID_ARGUMENT, { fields: c.fields });
      });
    }

    it('writes no audit event for a refused request', async () => {
      const requestId = randomUUID();

      await expectRpcError(login('', '', requestId), status.INVALID_ARGUMENT);

      expect(await auditEventsOfRequest(requestId)).to.deep.equal([]);
    });
  });

  describe('under password-hashing load', () => {
    let busy: TestServer;

    before(async () => {
      // One hash at a time and (almost) no queueing, so a concurrent hash is turned away.
      busy = await startTestServer(harness().db, {
        TESSERA_PEPPER: harness().server.env.TESSERA_PEPPER,
        TESSERA_MASTER_KEY: harness().server.env.TESSERA_MASTER_KEY,
        PASSWORD_HASH_CONCURRENCY: '1',
        PASSWORD_HASH_QUEUE_TIMEOUT_MS: '1',
      });
    });

    after(() => busy.close());

    it('still answers INVALID_CREDENTIALS for unknown emails after one was turned away as busy', async () => {
      const unknownEmail = () => call(busy.auth, 'login', { email: uniqueEmail('nobody'), password: DEFAULT_PASSWORD });
      // The registration hashes at once; the login looks the email up first, then queues behind it.
      const [, turnedAway] = await Promise.allSettled([
        call(busy.auth, 'register', { email: uniqueEmail(), password: DEFAULT_PASSWORD, fullName: '' }),
        unknownEmail(),
      ]);
      expect(turnedAway.status, 'precondition: the first unknown-email login met a busy hasher').to.equal('rejected');
      expect(status[((turnedAway as PromiseRejectedResult).reason as ServiceError).code]).to.equal('RESOURCE_EXHAUSTED');

      for (let i = 0; i < 2; i++) {
        await expectRpcError(unknownEmail(), status.UNAUTHENTICATED, { reason: 'INVALID_CREDENTIALS' });
      }
    });
  });

  describe('refresh token storage', () => {
    it('stores only the SHA-256 hash of the refresh token', async () => {
      const { email, password } = await registerUser();
      const { tokens } = await login(email, password);
      const sid = decodeJwt(tokens!.accessToken).sid;

      const [row] = await sql<{ refresh_token_hash: string; whole_row: string }>(
        'select refresh_token_hash, s::text as whole_row from sessions s where id = $1',
        [sid],
      );
      const secret = tokens!.refreshToken;
      expect(row.refresh_token_hash).to.equal(createHash('sha256').update(secret).digest('hex'));
      expect(row.whole_row).to.not.include(secret);
      expect(row.whole_row).to.not.include(secret.slice('tsr_'.length));
    });
  });
});
