import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { DomainError, Violations } from '../../src/domain/kernel/errors.js';
import {
  checkPageSize,
  decodeOpaquePageToken,
  decodePageToken,
  encodeOpaquePageToken,
  encodePageToken,
  queryFingerprint,
  toPage,
} from '../../src/domain/kernel/page-token.js';
import { toServiceError } from '../../src/rpc/errors.js';

/** Runs `fn`, which must throw an INVALID_ARGUMENT DomainError naming page_token; returns the error. */
function expectInvalidPageToken(fn: () => unknown): DomainError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected an error').to.be.instanceOf(DomainError);
  const err = caught as DomainError;
  expect(err.kind).to.equal('invalid_argument');
  expect(err.violations.map((v) => v.field)).to.deep.equal(['page_token']);
  // On the wire: INVALID_ARGUMENT, not INTERNAL.
  expect(toServiceError(err).serviceError.code).to.equal(status.INVALID_ARGUMENT);
  return err;
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

describe('Page tokens', () => {
  const fingerprint = queryFingerprint('audit_events', 'oldest_first', 'filter-a');

  it('round-trips a position for the same query', () => {
    const token = encodeOpaquePageToken(fingerprint, { id: '12345678901234567' });
    expect(token, 'tokens are URL safe').to.match(/^[A-Za-z0-9_-]+$/);
    expect(decodeOpaquePageToken(token, fingerprint, 'T-1')).to.deep.equal({ id: '12345678901234567' });
  });

  it('treats an empty token as the first page', () => {
    expect(decodeOpaquePageToken('', fingerprint, 'T-1')).to.equal(undefined);
    expect(decodePageToken('', fingerprint, 'T-1')).to.equal(undefined);
  });

  it('binds a token to its query: another filter or order is refused', () => {
    const token = encodeOpaquePageToken(fingerprint, { id: '10' });
    const other = queryFingerprint('audit_events', 'newest_first', 'filter-a');
    expect(other).to.not.equal(fingerprint);
    const err = expectInvalidPageToken(() => decodeOpaquePageToken(token, other, 'T-2'));
    expect(err.id).to.equal('T-2');
  });

  it('refuses garbage, including JSON null and non-string positions, with INVALID_ARGUMENT', () => {
    for (const token of [
      'not a token!',
      '%%%',
      b64('{"f":"x"'),
      b64('"s"'),
      b64('42'),
      b64('[]'),
      b64('null'),
      b64('{"f":"x","p":{"id":7}}'),
      b64('{"f":"x","p":null}'),
      'a'.repeat(2000),
    ]) {
      expectInvalidPageToken(() => decodeOpaquePageToken(token, fingerprint, 'T-3'));
    }
  });

  it('keyset tokens carry (created_at, id) and refuse a malformed position', () => {
    const cursor = { createdAt: new Date('2026-11-22T10:00:00.000Z'), id: '01a204cb-2c7c-700e-967c-ac22c650de96' };
    expect(decodePageToken(encodePageToken(cursor, fingerprint), fingerprint, 'T-4')).to.deep.equal(cursor);
    expectInvalidPageToken(() =>
      decodePageToken(encodeOpaquePageToken(fingerprint, { c: 'yesterday', i: cursor.id }), fingerprint, 'T-4'),
    );
    expectInvalidPageToken(() =>
      decodePageToken(encodeOpaquePageToken(fingerprint, { c: cursor.createdAt.toISOString(), i: 'x' }), fingerprint, 'T-4'),
    );
  });

  it('cuts a page from limit + 1 rows and points after the last row returned', () => {
    const rows = [1, 2, 3].map((n) => ({ createdAt: new Date(n * 1000), id: `00000000-0000-7000-8000-00000000000${n}` }));
    const page = toPage(rows, 2, fingerprint);
    expect(page.items).to.have.length(2);
    expect(decodePageToken(page.nextPageToken, fingerprint, 'T-5')).to.deep.equal({
      createdAt: rows[1].createdAt,
      id: rows[1].id,
    });
    expect(toPage(rows.slice(0, 2), 2, fingerprint).nextPageToken).to.equal('');
  });

  describe('checkPageSize', () => {
    const sizes = { default: 100, max: 1000 };

    it('uses the default for 0 and caps sizes over the maximum', () => {
      const v = new Violations();
      expect(checkPageSize(0, v, sizes)).to.equal(100);
      expect(checkPageSize(250, v, sizes)).to.equal(250);
      expect(checkPageSize(5000, v, sizes)).to.equal(1000);
      expect(v.isEmpty).to.equal(true);
    });

    it('records a violation for a negative size', () => {
      const v = new Violations();
      checkPageSize(-1, v, sizes);
      expect(v.isEmpty).to.equal(false);
    });
  });
});
