import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { Profile } from '../../src/gen/tessera/v1/profile.js';
import { harness } from '../helpers/harness.js';
import { uniqueEmail } from '../helpers/fixtures.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, call } from '../helpers/server.js';

describe('server logs', () => {
  const secrets: Record<string, string> = {};

  before(async () => {
    const { auth, profile } = harness().server;
    const marker = randomBytes(6).toString('hex');
    const password = `Log-Canary-Password-${marker}`;
    const wrongPassword = `Wrong-Canary-Password-${marker}`;
    // A Portuguese mobile number (91x: a valid range) with random digits, so it appears in the logs only if something leaks it.
    const digits = `91${String(randomBytes(4).readUInt32BE() % 10_000_000).padStart(7, '0')}`;
    const phone = `+351 ${digits.slice(0, 3)} ${digits.slice(3, 6)} ${digits.slice(6)}`;
    const userEmail = uniqueEmail('logs');

    await call(auth, 'register', { email: userEmail, password, fullName: 'Log Canary' });
    await expectRpcError(call(auth, 'login', { email: userEmail, password: wrongPassword }), status.UNAUTHENTICATED);
    const login = await call(auth, 'login', { email: userEmail, password });
    const refreshed = await call(auth, 'refreshToken', { refreshToken: login.tokens!.refreshToken });
    // Replaying the rotated token after the grace window is refused: its log line must not carry it either.
    harness().server.clock.advance(60);
    await expectRpcError(call(auth, 'refreshToken', { refreshToken: login.tokens!.refreshToken }), status.UNAUTHENTICATED);
    harness().server.clock.reset();
    const relogin = await call(auth, 'login', { email: userEmail, password });
    await call(
      profile,
      'updateProfile',
      { profile: Profile.fromPartial({ phoneNumber: phone, bio: 'canary' }), updateMask: ['phone_number', 'bio'] },
      bearer(relogin.tokens!.accessToken),
    );
    await call(profile, 'getProfile', { userId: '' }, bearer(relogin.tokens!.accessToken));
    await call(auth, 'logout', { refreshToken: relogin.tokens!.refreshToken });

    Object.assign(secrets, {
      password,
      wrongPassword,
      phone,
      'phone (E.164)': phone.replace(/ /g, ''),
      'phone digits': digits,
      'first access token': login.tokens!.accessToken,
      'first refresh token': login.tokens!.refreshToken,
      'rotated access token': refreshed.tokens!.accessToken,
      'rotated refresh token': refreshed.tokens!.refreshToken,
      'second access token': relogin.tokens!.accessToken,
      'second refresh token': relogin.tokens!.refreshToken,
      'password hash prefix': '$argon2id',
    });
  });

  it('logged the calls', () => {
    const methods = rpcLines().map((l) => l.method);
    for (const m of ['Register', 'Login', 'RefreshToken', 'Logout']) expect(methods).to.include(`/tessera.v1.AuthService/${m}`);
    expect(methods).to.include('/tessera.v1.ProfileService/UpdateProfile');
  });

  it('never contains a password, a token, a phone number or a password hash', () => {
    const text = harness().server.logs.text();
    for (const [what, value] of Object.entries(secrets)) {
      expect(text.includes(value), `${what} appears in the logs`).to.equal(false);
    }
  });

  it('gives every rpc line the request id, the method, the status code and the duration', () => {
    const lines = rpcLines();
    expect(lines).to.not.be.empty;
    for (const line of lines) {
      expect(line.requestId, JSON.stringify(line)).to.be.a('string').and.not.equal('');
      expect(line.method, JSON.stringify(line)).to.match(/^\/tessera\.v1\.\w+\/\w+$/);
      expect(line.code, JSON.stringify(line)).to.be.a('string');
      expect(line.ms, JSON.stringify(line)).to.be.a('number');
    }
  });

  it('logs client errors as warnings with the error id and reason, without a stack', () => {
    const failures = rpcLines().filter((l) => l.code === 'UNAUTHENTICATED' && l.method === '/tessera.v1.AuthService/Login');
    expect(failures).to.not.be.empty;
    for (const line of failures) {
      expect(line.level).to.equal(40);
      expect(line).to.include({ errorId: 'SESS-001', reason: 'INVALID_CREDENTIALS' });
      expect(line.err).to.equal(undefined);
    }
  });
});

/** The one line each call writes when it ends (its outcome), parsed. */
function rpcLines(): Record<string, any>[] {
  return harness()
    .server.logs.lines.map((l) => JSON.parse(l) as Record<string, any>)
    .filter((l) => 'code' in l && 'ms' in l);
}
