import { BlockList, isIP } from 'node:net';
import type { Metadata } from '@grpc/grpc-js';

const MAX_HEADER_LENGTH = 8192;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function firstString(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === 'string' && value.length <= MAX_HEADER_LENGTH ? value : undefined;
}

/** The token of an `authorization: Bearer <token>` header, if present. */
export function bearerToken(metadata: Metadata): string | undefined {
  const header = firstString(metadata, 'authorization');
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1];
}

/** The caller's request id when it is well formed; otherwise the server makes one. */
export function requestIdOf(metadata: Metadata): string | undefined {
  const id = firstString(metadata, 'x-request-id');
  return id && REQUEST_ID.test(id) ? id : undefined;
}

/** The user agent, bounded, for sessions and audit events. */
export function userAgentOf(metadata: Metadata): string | null {
  return firstString(metadata, 'user-agent')?.slice(0, 512) ?? null;
}

/** The peer's IP from grpc-js's peer string ("1.2.3.4:5678", "[::1]:5678", "ipv4:..."). */
export function clientIp(peer: string): string | null {
  const bare = peer.replace(/^ipv[46]:/, '');
  const bracketed = bare.match(/^\[([^\]]+)\](?::\d+)?$/);
  if (bracketed) return bracketed[1];
  const v4 = bare.match(/^(\d{1,3}(?:\.\d{1,3}){3})(?::\d+)?$/);
  if (v4) return v4[1];
  return bare.startsWith('unix:') ? null : bare || null;
}

/** Who may tell us the real client address through `x-forwarded-for` / `x-forwarded-user-agent`. */
export class ProxyTrust {
  private readonly trusted = new BlockList();

  /** `cidrs`: e.g. ["10.0.0.0/8", "::1/128"]. Invalid entries throw, so a typo fails start-up. */
  constructor(cidrs: string[]) {
    for (const cidr of cidrs) {
      const parts = cidr.split('/');
      const [address, prefixText] = parts;
      const family = isIP(address ?? '');
      // "10.0.0.0/" must not become /0 (trusting everyone): the prefix is digits or absent.
      const wellFormed = parts.length <= 2 && (prefixText === undefined || /^\d{1,3}$/.test(prefixText));
      const prefix = prefixText === undefined ? (family === 6 ? 128 : 32) : Number(prefixText);
      if (!wellFormed || !family || prefix > (family === 6 ? 128 : 32)) {
        throw new Error(`invalid trusted proxy CIDR "${cidr}"`);
      }
      this.trusted.addSubnet(address!, prefix, family === 6 ? 'ipv6' : 'ipv4');
    }
  }

  isTrusted(ip: string | null): boolean {
    if (!ip) return false;
    const family = isIP(ip);
    return family !== 0 && this.trusted.check(ip, family === 6 ? 'ipv6' : 'ipv4');
  }

  /**
   * The client's address and user agent. When the caller is a trusted proxy
   * (or `callerVouches`, e.g. a service account passing on its end user's
   * address), the first untrusted hop of x-forwarded-for, read from the
   * right, and x-forwarded-user-agent; otherwise the peer itself.
   */
  forwardedClient(
    peerIp: string | null,
    metadata: Metadata,
    callerVouches = false,
  ): { ip: string | null; userAgent: string | null } {
    if (!callerVouches && !this.isTrusted(peerIp)) return { ip: peerIp, userAgent: null };
    const hops = (firstString(metadata, 'x-forwarded-for') ?? '')
      .split(',')
      .map((h) => h.trim())
      .filter((h) => isIP(h) !== 0);
    let ip = peerIp;
    for (let i = hops.length - 1; i >= 0; i--) {
      ip = hops[i];
      if (!this.isTrusted(ip)) break;
    }
    const userAgent = firstString(metadata, 'x-forwarded-user-agent')?.slice(0, 512) ?? null;
    return { ip, userAgent };
  }
}
