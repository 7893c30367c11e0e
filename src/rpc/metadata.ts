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
