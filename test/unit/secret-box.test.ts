import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { SecretBox } from '../../src/crypto/secret-box.js';

const masterKey = randomBytes(32);

/** Flips one bit in part `index` (2 = iv, 3 = tag, 4 = ciphertext) of a sealed value. */
function tamper(sealed: string, index: number): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[index], 'base64url');
  bytes[0] ^= 0x01;
  parts[index] = bytes.toString('base64url');
  return parts.join('.');
}

describe('SecretBox', () => {
  const box = new SecretBox(masterKey, 'profile-fields');

  it('opens what it sealed, for any text', () => {
    for (const text of ['', '+351912345678', 'ünïcödé 🔐', 'x'.repeat(10_000)]) {
      expect(box.open(box.seal(text, 'row-1'), 'row-1')).to.equal(text);
    }
  });

  it('seals the same text differently each time (fresh IV)', () => {
    const a = box.seal('same', 'ctx');
    const b = box.seal('same', 'ctx');
    expect(a).to.not.equal(b);
    expect(a.split('.')[2]).to.not.equal(b.split('.')[2]);
  });

  it('writes v1.<keyId>.<iv>.<tag>.<ciphertext> with a 12-byte IV and a 16-byte tag', () => {
    const [version, keyId, iv, tag] = box.seal('hello').split('.');
    expect(version).to.equal('v1');
    expect(keyId).to.equal(box.keyId);
    expect(Buffer.from(iv, 'base64url')).to.have.length(12);
    expect(Buffer.from(tag, 'base64url')).to.have.length(16);
  });

  it('refuses a tampered ciphertext', () => {
    expect(() => box.open(tamper(box.seal('secret', 'c'), 4), 'c')).to.throw();
  });

  it('refuses a tampered tag', () => {
    expect(() => box.open(tamper(box.seal('secret', 'c'), 3), 'c')).to.throw();
  });

  it('refuses a tampered IV', () => {
    expect(() => box.open(tamper(box.seal('secret', 'c'), 2), 'c')).to.throw();
  });

  it('refuses a truncated tag, even one that is a prefix of the right tag', () => {
    const parts = box.seal('secret', 'c').split('.');
    for (const length of [4, 8, 12, 15]) {
      const truncated = [...parts];
      truncated[3] = Buffer.from(parts[3], 'base64url').subarray(0, length).toString('base64url');
      expect(() => box.open(truncated.join('.'), 'c'), `${length}-byte tag`).to.throw();
    }
  });

  it('refuses another context', () => {
    const sealed = box.seal('secret', 'user-a');
    expect(() => box.open(sealed, 'user-b')).to.throw();
    expect(() => box.open(sealed)).to.throw();
  });

  it('refuses another master key', () => {
    const other = new SecretBox(randomBytes(32), 'profile-fields');
    expect(other.keyId).to.not.equal(box.keyId);
    expect(() => other.open(box.seal('secret', 'c'), 'c')).to.throw();
  });

  it('refuses another purpose under the same master key', () => {
    const signingKeys = new SecretBox(masterKey, 'signing-keys');
    expect(signingKeys.keyId).to.equal(box.keyId);
    expect(() => signingKeys.open(box.seal('secret', 'c'), 'c')).to.throw();
  });

  it('refuses malformed input with "unsupported ciphertext"', () => {
    for (const bad of ['', 'v1', 'v2.a.b.c.d', `v1.${box.keyId}.onlyiv`]) {
      expect(() => box.open(bad), JSON.stringify(bad)).to.throw('unsupported ciphertext');
    }
  });
});
