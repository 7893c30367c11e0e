import { expect } from 'chai';
import { sql } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { call } from '../helpers/server.js';

describe('AuthService.GetJwks', () => {
  it('returns Ed25519 public signing keys with kid, alg EdDSA and use sig', async () => {
    const { keys } = await call(harness().server.auth, 'getJwks', {});

    expect(keys).to.have.length.of.at.least(1);
    for (const key of keys) {
      expect(key).to.include({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
      expect(key.kid).to.be.a('string').and.not.equal('');
      // An Ed25519 public key is 32 bytes: 43 base64url characters.
      expect(key.x).to.match(/^[A-Za-z0-9_-]{43}$/);
    }
    expect(new Set(keys.map((k) => k.kid)).size).to.equal(keys.length);
  });

  it('never includes a private key member', async () => {
    const { keys } = await call(harness().server.auth, 'getJwks', {});

    for (const key of keys) expect(key).to.not.have.property('d');
    expect(JSON.stringify(keys)).to.not.include('"d"');
  });

  it('serves the same key set at /.well-known/jwks.json on the ops port', async () => {
    const { keys } = await call(harness().server.auth, 'getJwks', {});

    const res = await fetch(`http://127.0.0.1:${harness().server.tessera.httpPort}/.well-known/jwks.json`);

    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('application/jwk-set+json');
    const body = (await res.json()) as { keys: Record<string, string>[] };
    expect(body.keys).to.deep.equal(keys);
    for (const key of body.keys) expect(key).to.not.have.property('d');
  });

  it('stores the private keys encrypted, never in clear', async () => {
    const { keys } = await call(harness().server.auth, 'getJwks', {});

    const rows = await sql<{ kid: string; private_jwk_ciphertext: string }>(
      'select kid, private_jwk_ciphertext from signing_keys',
    );

    expect(rows.map((r) => r.kid)).to.include.members(keys.map((k) => k.kid));
    for (const row of rows) {
      expect(row.private_jwk_ciphertext).to.match(/^v1\./);
      expect(row.private_jwk_ciphertext).to.not.include('"d"');
      expect(row.private_jwk_ciphertext).to.not.include('Ed25519');
    }
  });
});
