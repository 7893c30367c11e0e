import { Metadata, status } from '@grpc/grpc-js';
import { expect } from 'chai';
import {
  base64url,
  calculateJwkThumbprint,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importJWK,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';
import { createHmac, KeyObject, randomUUID, sign as signEd25519, type webcrypto } from 'node:crypto';
import { loadConfig } from '../../src/config.js';
import { SecretBox } from '../../src/crypto/secret-box.js';
import { signedInUser, sql } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, call, startTestServer, type TestServer } from '../helpers/server.js';

/** The protected RPC these tests call: any authenticated user may read their own profile. */
function getOwnProfile(metadata: Metadata, server: TestServer = harness().server) {
  return call(server.profile, 'getProfile', { userId: '' }, metadata);
}

function authorization(value: string): Metadata {
  const md = new Metadata();
  md.set('authorization', value);
  return md;
}

/** Every refused token gets the same answer, so the reply tells an attacker nothing about why. */
async function expectInvalidToken(token: string, server: TestServer = harness().server): Promise<void> {
  const details = await expectRpcError(getOwnProfile(bearer(token), server), status.UNAUTHENTICATED, { reason: 'INVALID_TOKEN' });
  expect(details.message).to.equal('the access token is invalid or expired');
}

const encodeSegment = (value: unknown) => base64url.encode(JSON.stringify(value));

/** A token with the given header and payload and the signature of `original` copied over. */
function withSignatureOf(original: string, header: Record<string, unknown>, payload: JWTPayload): string {
  return `${encodeSegment(header)}.${encodeSegment(payload)}.${original.split('.')[2]}`;
}

/** The server's active signing key, decrypted the way the server does it, so tests can forge genuine signatures. */
async function serverSigningKey(): Promise<{ kid: string; privateKey: CryptoKey; publicJwk: Record<string, string> }> {
  const [row] = await sql<{ kid: string; public_jwk: Record<string, string>; private_jwk_ciphertext: string }>(
    `select kid, public_jwk, private_jwk_ciphertext from signing_keys where state = 'active' order by created_at desc limit 1`,
  );
  const { masterKey } = loadConfig(harness().server.env).secrets;
  const privateJwk = JSON.parse(new SecretBox(masterKey, 'signing-keys').open(row.private_jwk_ciphertext, row.kid)) as JWK;
  return { kid: row.kid, privateKey: (await importJWK(privateJwk, 'EdDSA')) as CryptoKey, publicJwk: row.public_jwk };
}

function sign(key: CryptoKey, header: { alg: string; typ?: string; kid?: string }, payload: JWTPayload): Promise<string> {
  return new SignJWT(payload).setProtectedHeader(header).sign(key);
}

function hs256(header: Record<string, unknown>, payload: JWTPayload, secret: Buffer | string): string {
  const input = `${encodeSegment(header)}.${encodeSegment(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

describe('Access token authentication', () => {
  afterEach(() => harness().server.clock.reset());

  describe('credentials in the metadata', () => {
    it('accepts a genuine access token (control)', async () => {
      const user = await signedInUser();

      const { profile } = await getOwnProfile(bearer(user.accessToken));

      expect(profile!.userId).to.equal(user.user!.id);
    });

    it('accepts the scheme name in any letter case', async () => {
      const user = await signedInUser();

      const { profile } = await getOwnProfile(authorization(`bearer ${user.accessToken}`));

      expect(profile!.userId).to.equal(user.user!.id);
    });

    it('refuses a call without authorization metadata with MISSING_CREDENTIALS', async () => {
      await expectRpcError(getOwnProfile(new Metadata()), status.UNAUTHENTICATED, { reason: 'MISSING_CREDENTIALS' });
    });

    it('refuses a Basic authorization header with MISSING_CREDENTIALS', async () => {
      await expectRpcError(getOwnProfile(authorization('Basic dXNlcjpwYXNz')), status.UNAUTHENTICATED, {
        reason: 'MISSING_CREDENTIALS',
      });
    });

    it('refuses "Bearer" without a token with MISSING_CREDENTIALS', async () => {
      await expectRpcError(getOwnProfile(authorization('Bearer ')), status.UNAUTHENTICATED, { reason: 'MISSING_CREDENTIALS' });
    });

    it('refuses a bare token without the Bearer scheme with MISSING_CREDENTIALS', async () => {
      const user = await signedInUser();

      await expectRpcError(getOwnProfile(authorization(user.accessToken)), status.UNAUTHENTICATED, {
        reason: 'MISSING_CREDENTIALS',
      });
    });

    for (const garbage of ['garbage', 'a.b.c', 'eyJhbGciOiJFZERTQSJ9..', '...']) {
      it(`refuses the garbage token ${JSON.stringify(garbage)} with INVALID_TOKEN`, async () => {
        await expectInvalidToken(garbage);
      });
    }
  });

  describe('expiry', () => {
    it('accepts the token shortly before it expires', async () => {
      const user = await signedInUser();
      harness().server.clock.advance(14 * 60);

      const { profile } = await getOwnProfile(bearer(user.accessToken));

      expect(profile!.userId).to.equal(user.user!.id);
    });

    it('refuses the token once it has expired (16 minutes later) with INVALID_TOKEN', async () => {
      const user = await signedInUser();
      harness().server.clock.advance(16 * 60);

      await expectInvalidToken(user.accessToken);
    });
  });

  describe('tampering and algorithm confusion', () => {
    it('refuses a token whose role claim was changed but whose signature was kept', async () => {
      const user = await signedInUser();
      const header = decodeProtectedHeader(user.accessToken);

      await expectInvalidToken(withSignatureOf(user.accessToken, header, { ...decodeJwt(user.accessToken), role: 'admin' }));
    });

    it('refuses a token whose sub claim was changed to another user but whose signature was kept', async () => {
      const user = await signedInUser();
      const other = await signedInUser();

      await expectInvalidToken(
        withSignatureOf(user.accessToken, decodeProtectedHeader(user.accessToken), {
          ...decodeJwt(user.accessToken),
          sub: other.user!.id,
        }),
      );
    });

    it('refuses a token with a stripped signature', async () => {
      const user = await signedInUser();

      await expectInvalidToken(user.accessToken.split('.').slice(0, 2).join('.') + '.');
    });

    for (const alg of ['none', 'None', 'NONE']) {
      it(`refuses an alg "${alg}" token carrying genuine claims`, async () => {
        const user = await signedInUser();
        const header = { ...decodeProtectedHeader(user.accessToken), alg };

        await expectInvalidToken(`${encodeSegment(header)}.${encodeSegment(decodeJwt(user.accessToken))}.`);
      });
    }

    it('refuses HS256 tokens whose HMAC secret is the public key (x bytes, x text, JWK JSON) with the real kid', async () => {
      const user = await signedInUser();
      const { kid, publicJwk } = await serverSigningKey();
      const claims = decodeJwt(user.accessToken);
      const header = { alg: 'HS256', typ: 'at+jwt', kid };
      const secrets: (Buffer | string)[] = [
        Buffer.from(publicJwk.x, 'base64url'),
        publicJwk.x,
        JSON.stringify(publicJwk),
        JSON.stringify({ kty: publicJwk.kty, crv: publicJwk.crv, x: publicJwk.x }),
      ];

      for (const secret of secrets) await expectInvalidToken(hs256(header, claims, secret));
    });

    it('refuses a token signed by a foreign Ed25519 key that claims the real kid', async () => {
      const user = await signedInUser();
      const { kid } = await serverSigningKey();
      const foreign = await generateKeyPair('EdDSA', { crv: 'Ed25519' });

      await expectInvalidToken(await sign(foreign.privateKey, { alg: 'EdDSA', typ: 'at+jwt', kid }, decodeJwt(user.accessToken)));
    });

    it('refuses a token signed by a foreign Ed25519 key under its own kid, or under none', async () => {
      const user = await signedInUser();
      const foreign = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
      const foreignKid = await calculateJwkThumbprint(await exportJWK(foreign.publicKey));
      const claims = decodeJwt(user.accessToken);

      await expectInvalidToken(await sign(foreign.privateKey, { alg: 'EdDSA', typ: 'at+jwt', kid: foreignKid }, claims));
      await expectInvalidToken(await sign(foreign.privateKey, { alg: 'EdDSA', typ: 'at+jwt' }, claims));
    });

    it('refuses foreign-key tokens with a wrong issuer or audience', async () => {
      const user = await signedInUser();
      const foreign = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
      const claims = decodeJwt(user.accessToken);
      const header = { alg: 'EdDSA', typ: 'at+jwt', kid: (await serverSigningKey()).kid };

      await expectInvalidToken(await sign(foreign.privateKey, header, { ...claims, iss: 'urn:evil' }));
      await expectInvalidToken(await sign(foreign.privateKey, header, { ...claims, aud: 'evil' }));
    });
  });

  describe('tokens signed with the genuine key', () => {
    let key: { kid: string; privateKey: CryptoKey };
    before(async () => {
      key = await serverSigningKey();
    });

    async function genuineClaims() {
      const user = await signedInUser();
      return { user, claims: decodeJwt(user.accessToken) };
    }

    it('accepts a forged token of the right shape for a live session (control)', async () => {
      const { user, claims } = await genuineClaims();
      const token = await sign(key.privateKey, { alg: 'EdDSA', typ: 'at+jwt', kid: key.kid }, { ...claims, jti: randomUUID() });

      const { profile } = await getOwnProfile(bearer(token));

      expect(profile!.userId).to.equal(user.user!.id);
    });

    for (const typ of ['JWT', 'jwt', 'application/jwt']) {
      it(`refuses typ "${typ}" instead of "at+jwt"`, async () => {
        const { claims } = await genuineClaims();

        await expectInvalidToken(await sign(key.privateKey, { alg: 'EdDSA', typ, kid: key.kid }, claims));
      });
    }

    it('refuses a token without typ', async () => {
      const { claims } = await genuineClaims();

      await expectInvalidToken(await sign(key.privateKey, { alg: 'EdDSA', kid: key.kid }, claims));
    });

    for (const typ of ['application/at+jwt', 'AT+JWT']) {
      it(`accepts typ "${typ}" as "at+jwt" (RFC 8725 explicit typing)`, async () => {
        const { user, claims } = await genuineClaims();

        const { profile } = await getOwnProfile(bearer(await sign(key.privateKey, { alg: 'EdDSA', typ, kid: key.kid }, claims)));

        expect(profile!.userId).to.equal(user.user!.id);
      });
    }

    it('refuses a genuine signature without a kid', async () => {
      const { claims } = await genuineClaims();

      await expectInvalidToken(await sign(key.privateKey, { alg: 'EdDSA', typ: 'at+jwt' }, claims));
    });

    it('refuses a token with a crit header, whatever it names', async () => {
      const { claims } = await genuineClaims();
      const signer = KeyObject.from(key.privateKey as unknown as webcrypto.CryptoKey);
      for (const crit of [['exp'], ['b64'], []]) {
        const input = `${encodeSegment({ alg: 'EdDSA', typ: 'at+jwt', kid: key.kid, crit })}.${encodeSegment(claims)}`;
        await expectInvalidToken(`${input}.${signEd25519(null, Buffer.from(input), signer).toString('base64url')}`);
      }
    });

    it('refuses a token whose nbf is still ahead, and accepts one whose nbf has passed', async () => {
      const { claims } = await genuineClaims();
      const header = { alg: 'EdDSA', typ: 'at+jwt', kid: key.kid };
      const now = Math.floor(Date.now() / 1000);

      await expectInvalidToken(await sign(key.privateKey, header, { ...claims, nbf: now + 60 }));
      await getOwnProfile(bearer(await sign(key.privateKey, header, { ...claims, nbf: now - 60 })));
    });

    it('refuses a token whose exp is not a number', async () => {
      const { claims } = await genuineClaims();
      const header = { alg: 'EdDSA', typ: 'at+jwt', kid: key.kid };

      await expectInvalidToken(await sign(key.privateKey, header, { ...claims, exp: String(claims.exp) as unknown as number }));
    });

    it('refuses the genuine key under the alg name "Ed25519": only "EdDSA" is accepted', async () => {
      const { claims } = await genuineClaims();

      await expectInvalidToken(await sign(key.privateKey, { alg: 'Ed25519', typ: 'at+jwt', kid: key.kid }, claims));
    });

    for (const claim of ['sid', 'sub', 'jti', 'exp', 'iat', 'role']) {
      it(`refuses a token missing the ${claim} claim`, async () => {
        const { claims } = await genuineClaims();
        const { [claim]: _dropped, ...rest } = claims;

        await expectInvalidToken(await sign(key.privateKey, { alg: 'EdDSA', typ: 'at+jwt', kid: key.kid }, rest));
      });
    }

    it('refuses a token for a session that does not exist', async () => {
      const { claims } = await genuineClaims();

      await expectInvalidToken(
        await sign(key.privateKey, { alg: 'EdDSA', typ: 'at+jwt', kid: key.kid }, { ...claims, sid: randomUUID() }),
      );
    });

    it('refuses a token whose sid is not a UUID', async () => {
      const { claims } = await genuineClaims();

      await expectInvalidToken(
        await sign(key.privateKey, { alg: 'EdDSA', typ: 'at+jwt', kid: key.kid }, { ...claims, sid: 'not-a-uuid' }),
      );
    });

    it("refuses a token that pairs a live session with another user's id", async () => {
      const { claims } = await genuineClaims();
      const other = await signedInUser();

      await expectInvalidToken(
        await sign(key.privateKey, { alg: 'EdDSA', typ: 'at+jwt', kid: key.kid }, { ...claims, sub: other.user!.id }),
      );
    });

    it('refuses a wrong issuer or audience even under the genuine key', async () => {
      const { claims } = await genuineClaims();
      const header = { alg: 'EdDSA', typ: 'at+jwt', kid: key.kid };

      await expectInvalidToken(await sign(key.privateKey, header, { ...claims, iss: 'urn:other' }));
      await expectInvalidToken(await sign(key.privateKey, header, { ...claims, aud: 'someone-else' }));
      await expectInvalidToken(await sign(key.privateKey, header, { ...claims, aud: ['someone-else'] }));
    });

    it('refuses a token whose exp has passed even though the session lives', async () => {
      const { claims } = await genuineClaims();
      const now = Math.floor(Date.now() / 1000);

      await expectInvalidToken(
        await sign(key.privateKey, { alg: 'EdDSA', typ: 'at+jwt', kid: key.kid }, { ...claims, iat: now - 3600, exp: now - 60 }),
      );
    });

    it('takes the role from the database: a role "admin" claim grants a normal user nothing', async () => {
      const { claims } = await genuineClaims();
      const other = await signedInUser();
      const token = await sign(key.privateKey, { alg: 'EdDSA', typ: 'at+jwt', kid: key.kid }, { ...claims, role: 'admin' });

      await expectRpcError(
        call(harness().server.profile, 'getProfile', { userId: other.user!.id }, bearer(token)),
        status.PERMISSION_DENIED,
        { reason: 'PERMISSION_DENIED' },
      );
    });
  });

  describe('issuer and audience pinning across instances sharing the keys', () => {
    let otherIssuer: TestServer;
    let otherAudience: TestServer;

    before(async function () {
      this.timeout(60_000);
      const shared = {
        TESSERA_PEPPER: harness().server.env.TESSERA_PEPPER,
        TESSERA_MASTER_KEY: harness().server.env.TESSERA_MASTER_KEY,
        TESSERA_BOOTSTRAP_ADMIN_EMAIL: '',
        TESSERA_BOOTSTRAP_ADMIN_PASSWORD: '',
      };
      otherIssuer = await startTestServer(harness().db, { ...shared, TESSERA_ISSUER: 'urn:other' });
      otherAudience = await startTestServer(harness().db, { ...shared, TESSERA_AUDIENCE: 'other-audience' });
    });

    after(async function () {
      this.timeout(30_000);
      await otherIssuer?.close();
      await otherAudience?.close();
    });

    it('refuses a validly signed token from an instance with another issuer', async () => {
      const user = await signedInUser({ server: otherIssuer });
      expect(decodeJwt(user.accessToken).iss).to.equal('urn:other');
      expect(decodeProtectedHeader(user.accessToken).kid).to.equal((await serverSigningKey()).kid);
      expect((await getOwnProfile(bearer(user.accessToken), otherIssuer)).profile!.userId).to.equal(user.user!.id);

      await expectInvalidToken(user.accessToken);
    });

    it('refuses a validly signed token from an instance with another audience', async () => {
      const user = await signedInUser({ server: otherAudience });
      expect(decodeJwt(user.accessToken).aud).to.equal('other-audience');
      expect((await getOwnProfile(bearer(user.accessToken), otherAudience)).profile!.userId).to.equal(user.user!.id);

      await expectInvalidToken(user.accessToken);
    });

    it("is symmetric: the other instances refuse this instance's tokens", async () => {
      const user = await signedInUser();

      await expectInvalidToken(user.accessToken, otherIssuer);
      await expectInvalidToken(user.accessToken, otherAudience);
    });
  });
});
