import { expect } from 'chai';
import { clientKeyOf } from '../../src/limits/client-key.js';

describe('clientKeyOf (the key a client address is counted under)', () => {
  it('keeps an IPv4 address as it is', () => {
    expect(clientKeyOf('203.0.113.7')).to.equal('203.0.113.7');
  });

  it('counts every IPv6 address of one /64 as one client', () => {
    const key = clientKeyOf('2001:db8:1:2::a');
    expect(key).to.equal('2001:db8:1:2::/64');
    expect(clientKeyOf('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).to.equal(key);
    expect(clientKeyOf('2001:DB8:1:2:0:0:0:1')).to.equal(key);
    expect(clientKeyOf('2001:db8:1:3::a')).to.not.equal(key);
  });

  it('expands :: wherever it stands', () => {
    expect(clientKeyOf('::1')).to.equal('0:0:0:0::/64');
    expect(clientKeyOf('fe80::1%eth0')).to.equal('fe80:0:0:0::/64');
    expect(clientKeyOf('2001:db8::')).to.equal('2001:db8:0:0::/64');
    expect(clientKeyOf('64:ff9b::192.0.2.1')).to.equal('64:ff9b:0:0::/64');
  });

  it('counts an IPv4-mapped IPv6 address as its IPv4 address', () => {
    expect(clientKeyOf('::ffff:203.0.113.7')).to.equal('203.0.113.7');
  });

  it('leaves anything else as it is', () => {
    expect(clientKeyOf('not an address')).to.equal('not an address');
  });
});
