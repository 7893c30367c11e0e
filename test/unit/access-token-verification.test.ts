import { expect } from 'chai';
import {
  buildKeyResolver,
  generateSigningKey,
  importSigningKey,
  InvalidTokenError,
  signAccessToken,
  verifyAccessToken,
  type GeneratedSigningKey,
} from '../../src/crypto/tokens.js';

const SETTINGS = { issuer: 'urn:tessera:test', audience: 'tessera' };
const CLAIMS = {
  sub: '00000000-0000-7000-8000-000000000001',
  sid: '00000000-0000-7000-8000-000000000002',
  role: 'user',
  authTime: new Date('2026-01-01T00:00:00Z'),
  amr: ['pwd'],
  acr: 'aal1' as const,
};

async function signWith(key: GeneratedSigningKey, now: Date, ttlSeconds = 900): Promise<string> {
  const privateKey = await importSigningKey(key.privateJwk);
  return (await signAccessToken({ kid: key.kid, privateKey }, CLAIMS, { ...SETTINGS, now, ttlSeconds })).token;
}

async function expectInvalid(promise: Promise<unknown>, reason: string): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'the token should have been refused').to.be.instanceOf(InvalidTokenError);
  expect((err as Error).message).to.equal(reason);
}

describe('Access token verification with remembered signatures', () => {
  it('verifies a token presented again, and still checks its expiry every time', async () => {
    const key = await generateSigningKey();
    const keys = buildKeyResolver({ keys: [key.publicJwk] });
    const now = new Date();
    const token = await signWith(key, now, 60);
    expect((await verifyAccessToken(token, keys, { ...SETTINGS, now })).sub).to.equal(CLAIMS.sub);
    expect(keys.verified.has(token)).to.equal(true);
    expect((await verifyAccessToken(token, keys, { ...SETTINGS, now })).sid).to.equal(CLAIMS.sid);
    await expectInvalid(verifyAccessToken(token, keys, { ...SETTINGS, now: new Date(now.getTime() + 61_000) }), 'expired');
    await expectInvalid(verifyAccessToken(token, keys, { ...SETTINGS, audience: 'another', now }), 'unexpected aud');
  });

  it('refuses a remembered token once its key is no longer published (the key set is rebuilt)', async () => {
    const retired = await generateSigningKey();
    const next = await generateSigningKey();
    const now = new Date();
    const token = await signWith(retired, now);
    const before = buildKeyResolver({ keys: [retired.publicJwk, next.publicJwk] });
    await verifyAccessToken(token, before, { ...SETTINGS, now });
    const after = buildKeyResolver({ keys: [next.publicJwk] });
    await expectInvalid(verifyAccessToken(token, after, { ...SETTINGS, now }), 'no published key for this kid');
  });

  it('remembers only signatures that held: a forged signature fails every time', async () => {
    const key = await generateSigningKey();
    const keys = buildKeyResolver({ keys: [key.publicJwk] });
    const now = new Date();
    const [header, payload] = (await signWith(key, now)).split('.');
    const forged = `${header}.${payload}.${Buffer.alloc(64, 7).toString('base64url')}`;
    for (let attempt = 0; attempt < 2; attempt++) {
      await expectInvalid(verifyAccessToken(forged, keys, { ...SETTINGS, now }), 'signature verification failed');
    }
    expect(keys.verified.size).to.equal(0);
  });

  it('keeps a bounded number of signatures, dropping the oldest first', async () => {
    const key = await generateSigningKey();
    const keys = buildKeyResolver({ keys: [key.publicJwk] });
    const now = new Date();
    const first = await signWith(key, now);
    await verifyAccessToken(first, keys, { ...SETTINGS, now });
    for (let i = 0; i < 4096; i++) await verifyAccessToken(await signWith(key, now), keys, { ...SETTINGS, now });
    expect(keys.verified.size).to.equal(4096);
    expect(keys.verified.has(first)).to.equal(false);
  });
});
