import { Metadata } from '@grpc/grpc-js';
import { expect } from 'chai';
import { ProxyTrust } from '../../src/rpc/metadata.js';

function headers(values: Record<string, string>): Metadata {
  const md = new Metadata();
  for (const [key, value] of Object.entries(values)) md.set(key, value);
  return md;
}

describe('ProxyTrust', () => {
  describe('configuration', () => {
    it('accepts IPv4 and IPv6 CIDRs and bare addresses', () => {
      expect(() => new ProxyTrust(['10.0.0.0/8', '192.168.1.7', '2001:db8::/32', '::1', '0.0.0.0/0'])).to.not.throw();
      expect(() => new ProxyTrust([])).to.not.throw();
    });

    for (const cidr of [
      'not-an-ip/8',
      '10.0.0.0/33',
      '10.0.0.0/-1',
      '10.0.0.0/abc',
      '10.0.0.0/8.5',
      '::1/129',
      '300.1.1.1/8',
      'example.com',
      '',
    ]) {
      it(`refuses ${JSON.stringify(cidr)}`, () => {
        expect(() => new ProxyTrust([cidr])).to.throw(/invalid trusted proxy CIDR/);
      });
    }

    // A trailing slash must not silently become /0, which would trust every address on the Internet.
    it('refuses a CIDR with an empty prefix ("10.0.0.0/")', () => {
      expect(() => new ProxyTrust(['10.0.0.0/'])).to.throw(/invalid trusted proxy CIDR/);
    });
  });

  describe('IPv4 subnets', () => {
    const trust = new ProxyTrust(['10.0.0.0/8', '192.168.1.7']);

    it('trusts addresses inside the subnet and the bare address only', () => {
      expect(trust.isTrusted('10.0.0.1')).to.equal(true);
      expect(trust.isTrusted('10.255.255.254')).to.equal(true);
      expect(trust.isTrusted('192.168.1.7')).to.equal(true);
    });

    it('does not trust addresses outside', () => {
      expect(trust.isTrusted('11.0.0.1')).to.equal(false);
      expect(trust.isTrusted('9.255.255.255')).to.equal(false);
      expect(trust.isTrusted('192.168.1.8')).to.equal(false);
      expect(trust.isTrusted('2001:db8::1')).to.equal(false);
    });

    it('does not trust a missing or malformed address', () => {
      expect(trust.isTrusted(null)).to.equal(false);
      expect(trust.isTrusted('')).to.equal(false);
      expect(trust.isTrusted('10.0.0.1:5000')).to.equal(false);
      expect(trust.isTrusted('localhost')).to.equal(false);
    });
  });

  describe('IPv6 subnets', () => {
    const trust = new ProxyTrust(['2001:db8::/32', '::1']);

    it('trusts addresses inside the subnet', () => {
      expect(trust.isTrusted('2001:db8::1')).to.equal(true);
      expect(trust.isTrusted('2001:db8:ffff:ffff::42')).to.equal(true);
      expect(trust.isTrusted('::1')).to.equal(true);
    });

    it('does not trust addresses outside', () => {
      expect(trust.isTrusted('2001:db9::1')).to.equal(false);
      expect(trust.isTrusted('::2')).to.equal(false);
      expect(trust.isTrusted('10.0.0.1')).to.equal(false);
    });
  });

  describe('forwardedClient', () => {
    const trust = new ProxyTrust(['127.0.0.1/32', '10.0.0.0/8']);
    const forwarded = headers({ 'x-forwarded-for': '198.51.100.23, 10.1.2.3', 'x-forwarded-user-agent': 'Mozilla/5.0 (test)' });

    it('returns the peer itself, and no user agent, when the peer is not trusted', () => {
      expect(trust.forwardedClient('203.0.113.9', forwarded)).to.deep.equal({ ip: '203.0.113.9', userAgent: null });
      expect(trust.forwardedClient(null, forwarded)).to.deep.equal({ ip: null, userAgent: null });
    });

    it('uses the first untrusted hop, read from the right, when the peer is a trusted proxy', () => {
      expect(trust.forwardedClient('127.0.0.1', forwarded)).to.deep.equal({
        ip: '198.51.100.23',
        userAgent: 'Mozilla/5.0 (test)',
      });
      // A client cannot smuggle an address in front of the one the proxy appended.
      const spoofed = headers({ 'x-forwarded-for': '1.2.3.4, 198.51.100.23, 10.1.2.3' });
      expect(trust.forwardedClient('10.9.9.9', spoofed).ip).to.equal('198.51.100.23');
    });

    it('skips malformed entries', () => {
      const md = headers({ 'x-forwarded-for': '198.51.100.23, not-an-ip, 999.1.1.1, , 10.1.2.3' });
      expect(trust.forwardedClient('127.0.0.1', md).ip).to.equal('198.51.100.23');
    });

    it('falls back to the peer when a trusted proxy sends no usable x-forwarded-for', () => {
      expect(trust.forwardedClient('127.0.0.1', headers({})).ip).to.equal('127.0.0.1');
      expect(trust.forwardedClient('127.0.0.1', headers({ 'x-forwarded-for': 'garbage' })).ip).to.equal('127.0.0.1');
      expect(trust.forwardedClient('127.0.0.1', headers({})).userAgent).to.equal(null);
    });

    it('handles IPv6 hops', () => {
      const v6 = new ProxyTrust(['2001:db8::/32']);
      const md = headers({ 'x-forwarded-for': '2001:db9::5, 2001:db8::2' });
      expect(v6.forwardedClient('2001:db8::1', md).ip).to.equal('2001:db9::5');
    });

    it('bounds the forwarded user agent to 512 characters', () => {
      const md = headers({ 'x-forwarded-for': '198.51.100.23', 'x-forwarded-user-agent': 'x'.repeat(600) });
      expect(trust.forwardedClient('127.0.0.1', md).userAgent).to.have.length(512);
    });

    it('uses the headers of an untrusted peer when the caller vouches for them', () => {
      expect(trust.forwardedClient('203.0.113.9', forwarded, true)).to.deep.equal({
        ip: '198.51.100.23',
        userAgent: 'Mozilla/5.0 (test)',
      });
      // Vouching without a header keeps the peer.
      expect(trust.forwardedClient('203.0.113.9', headers({}), true).ip).to.equal('203.0.113.9');
    });
  });
});
