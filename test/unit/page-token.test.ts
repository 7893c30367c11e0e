import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { DomainError } from '../../src/domain/errors.js';
import { decodePageToken, encodePageToken, pageSize } from '../../src/domain/page-token.js';
import { toServiceError } from '../../src/rpc/errors.js';

/** Runs `fn`, which must throw an INVALID_ARGUMENT DomainError naming exactly `field`; returns the error. */
function expectInvalidArgument(fn: () => unknown, field: string): DomainError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected an error').to.be.instanceOf(DomainError);
  const err = caught as DomainError;
  expect(err.kind).to.equal('invalid_argument');
  expect(err.violations.map((v) => v.field)).to.deep.equal([field]);
  // On the wire: INVALID_ARGUMENT, not INTERNAL.
  expect(toServiceError(err).serviceError.code).to.equal(status.INVALID_ARGUMENT);
  return err;
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

describe('Page tokens', () => {
  const queryKey = 'oldest_first|["a","",[],"",""]';

  it('round-trips a position for the same query key', () => {
    const token = encodePageToken(queryKey, { id: '12345678901234567' });
    expect(token).to.be.a('string').and.not.equal('');
    expect(token, 'tokens are URL safe').to.match(/^[A-Za-z0-9_-]+$/);
    expect(decodePageToken('page_token', token, queryKey)).to.deep.equal({ id: '12345678901234567' });
  });

  it('treats an empty token as the first page', () => {
    expect(decodePageToken('page_token', '', queryKey)).to.equal(undefined);
  });

  it('refuses a token issued for another query key, naming the field', () => {
    const token = encodePageToken(queryKey, { id: '10' });
    const err = expectInvalidArgument(() => decodePageToken('page_token', token, 'newest_first|["a","",[],"",""]'), 'page_token');
    expect(err.id).to.equal('PAGE-003');
    expectInvalidArgument(() => decodePageToken('list.page_token', token, `${queryKey} `), 'list.page_token');
  });

  it('refuses garbage with INVALID_ARGUMENT', () => {
    const garbage = [
      'not a token!',
      '%%%',
      b64('{"q":"x"'), // truncated JSON
      b64('"just a string"'),
      b64('42'),
      b64('[]'),
      b64('{"q":"x","p":{"id":7}}'), // non-string position
      b64('{"q":"x","p":null}'),
    ];
    for (const token of garbage) {
      expectInvalidArgument(() => decodePageToken('page_token', token, queryKey), 'page_token');
    }
  });

  it('refuses a token whose body is JSON null (not a TypeError / INTERNAL)', () => {
    expectInvalidArgument(() => decodePageToken('page_token', b64('null'), queryKey), 'page_token');
  });

  describe('pageSize', () => {
    const defaults = { default: 100, max: 1000 };

    it('uses the default for 0', () => {
      expect(pageSize('page_size', 0, defaults)).to.equal(100);
    });

    it('keeps sizes within range', () => {
      expect(pageSize('page_size', 1, defaults)).to.equal(1);
      expect(pageSize('page_size', 250, defaults)).to.equal(250);
      expect(pageSize('page_size', 1000, defaults)).to.equal(1000);
    });

    it('caps sizes over the maximum', () => {
      expect(pageSize('page_size', 1001, defaults)).to.equal(1000);
      expect(pageSize('page_size', 2_147_483_647, defaults)).to.equal(1000);
    });

    it('refuses a negative size, naming the field', () => {
      const err = expectInvalidArgument(() => pageSize('page_size', -1, defaults), 'page_size');
      expect(err.id).to.equal('PAGE-004');
      expectInvalidArgument(() => pageSize('page_size', -2_147_483_648, defaults), 'page_size');
    });
  });
});
