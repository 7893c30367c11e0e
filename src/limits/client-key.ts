import { isIPv4, isIPv6 } from 'node:net';

/**
 * The key a client address is counted under: an IPv4 address as it is, an
 * IPv6 address by its /64 prefix. One IPv6 subscriber usually gets a whole
 * /64, so counting single addresses would give them 2^64 budgets.
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) count as their IPv4 address.
 */
export function clientKeyOf(ip: string): string {
  if (isIPv4(ip)) return ip;
  const bare = ip.replace(/%.*$/, ''); // a zone index (fe80::1%eth0) names the interface, not the client
  if (!isIPv6(bare)) return ip;
  const mapped = bare.match(/^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i);
  if (mapped && isIPv4(mapped[1]!)) return mapped[1]!;
  return `${expandIPv6(bare).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address, lower-case and without leading zeros. */
function expandIPv6(ip: string): string[] {
  // A trailing dotted quad (::ffff:1.2.3.4 or 64:ff9b::1.2.3.4) is the last two groups.
  const withoutV4 = ip.replace(/(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/, (_, a, b, c, d) =>
    [((+a << 8) | +b).toString(16), ((+c << 8) | +d).toString(16)].join(':'),
  );
  const [head, tail] = withoutV4.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((group) => parseInt(group, 16).toString(16));
}
