import { createHash } from 'node:crypto';
import { invalidArguments } from './errors.js';

/**
 * Opaque page tokens (AIP-158): the position after the last item of a page,
 * bound to the query it came from. A token replayed with another filter or
 * order is refused rather than silently giving a wrong page.
 */
export function encodePageToken(queryKey: string, position: Record<string, string>): string {
  const body = { q: digest(queryKey), p: position };
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
}

/** Decodes a token made by `encodePageToken` for the same `queryKey`; empty token means the first page. */
export function decodePageToken(field: string, token: string, queryKey: string): Record<string, string> | undefined {
  if (token === '') return undefined;
  let body: { q?: unknown; p?: unknown };
  try {
    body = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as typeof body;
  } catch {
    throw invalidArguments('PAGE-001', [{ field, description: 'is not a page token issued by this service' }]);
  }
  if (
    typeof body !== 'object' ||
    body === null ||
    typeof body.p !== 'object' ||
    body.p === null ||
    Object.values(body.p).some((v) => typeof v !== 'string')
  ) {
    throw invalidArguments('PAGE-002', [{ field, description: 'is not a page token issued by this service' }]);
  }
  if (body.q !== digest(queryKey)) {
    throw invalidArguments('PAGE-003', [{ field, description: 'was issued for another filter or order; start again without it' }]);
  }
  return body.p as Record<string, string>;
}

/** Clamps a requested page size: 0 means the default. */
export function pageSize(field: string, requested: number, defaults: { default: number; max: number }): number {
  if (requested < 0) throw invalidArguments('PAGE-004', [{ field, description: 'must not be negative' }]);
  if (requested === 0) return defaults.default;
  return Math.min(requested, defaults.max);
}

function digest(queryKey: string): string {
  return createHash('sha256').update(queryKey).digest('base64url').slice(0, 16);
}
