import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { base64url, decodeJwt, generateKeyPair, SignJWT } from 'jose';
import { Role } from '../../src/gen/tessera/v1/user.js';
import { signedInUser, sql } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { call } from '../helpers/server.js';

const introspect = (token: string) => call(harness().server.auth, 'introspectToken', { token });

/** An inactive answer carries nothing but active = false (RFC 7662). */
async function expectInactive(token: string): Promise<void> {
  const res = await introspect(token);
  expect(res).to.deep.include({ active: false, subject: '', sessionId: '', role: Role.ROLE_UNSPECIFIED, tokenId: '' });
  expect(res.expiresAt).to.equal(undefined);
}

describe('AuthService.IntrospectToken', () => {
  afterEach(() => harness().server.clock.reset());

  it('describes an active access token: subject, session, role, times and id; no credentials needed', async () => {
    const user = await signedInUser();
    const claims = decodeJwt(user.accessToken);

    const res = await introspect(user.accessToken);

    expect(res.active).to.equal(true);
    expect(res.subject).to.equal(user.user!.id);
    expect(res.sessionId).to.equal(claims.sid);
    expect(res.role).to.equal(Role.ROLE_USER);
    expect(res.tokenId).to.equal(claims.jti);
    expect(res.expiresAt!.getTime()).to.equal(claims.exp! * 1000);
    expect(res.issuedAt!.getTime()).to.equal(claims.iat! * 1000);
  });

  it('reports an expired token as inactive', async () => {
    const user = await signedInUser();
    harness().server.clock.advance(15 * 60 + 1);
    await expectInactive(user.accessToken);
  });

  it('reports a tampered token as inactive', async () => {
    const user = await signedInUser();
    const [header, payload, signature] = user.accessToken.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const forged = base64url.encode(JSON.stringify({ ...claims, role: 'admin' }));
    await expectInactive(`${header}.${forged}.${signature}`);
    // Flip one bit inside the signature (editing its last characters can leave the decoded bytes unchanged).
    const bytes = Buffer.from(signature, 'base64url');
    bytes[10] ^= 0x01;
    await expectInactive(`${header}.${payload}.${bytes.toString('base64url')}`);
  });

  it('reports a token signed by a foreign key as inactive', async () => {
    const user = await signedInUser();
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const claims = decodeJwt(user.accessToken);
    const foreign = await new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: 'foreign-key' })
      .sign(privateKey);
    await expectInactive(foreign);
  });

  it('reports garbage, a refresh token and an unsigned token as inactive', async () => {
    const user = await signedInUser();
    await expectInactive('not-a-token');
    await expectInactive(user.refreshToken);
    const [, payload] = user.accessToken.split('.');
    await expectInactive(`${base64url.encode(JSON.stringify({ alg: 'none', typ: 'at+jwt' }))}.${payload}.`);
  });

  it('reports the token of a revoked session as inactive', async () => {
    const user = await signedInUser();
    await call(harness().server.auth, 'logout', { refreshToken: user.refreshToken });
    await expectInactive(user.accessToken);
  });

  it('reports the token of a user who is no longer active as inactive', async () => {
    const user = await signedInUser();
    expect((await introspect(user.accessToken)).active).to.equal(true);
    await sql(`update users set status = 'suspended' where id = $1`, [user.user!.id]);
    await expectInactive(user.accessToken);
  });

  it('refuses an empty token with INVALID_ARGUMENT naming token', async () => {
    await expectRpcError(introspect(''), status.INVALID_ARGUMENT, { fields: ['token'] });
    await expectRpcError(introspect('x'.repeat(8193)), status.INVALID_ARGUMENT, { fields: ['token'] });
  });
});
