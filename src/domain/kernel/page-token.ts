import { createHash } from 'node:crypto';
import type { PageCursor } from '../../db/index.js';
import { invalidArguments, type Violations } from './errors.js';
import { isUuid } from './validation.js';

/** AIP-158 sizes: 0 means the default; larger than the maximum is lowered to it. */
const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 1000;

/** Checks page_size and returns the size to use. */
export function checkPageSize(
  raw: number,
  violations: Violations,
  sizes: { default: number; max: number } = { default: DEFAULT_PAGE_SIZE, max: MAX_PAGE_SIZE },
): number {
  if (!Number.isInteger(raw) || raw < 0) {
    violations.add('page_size', `must be between 0 and ${sizes.max} (0 means ${sizes.default})`);
    return sizes.default;
  }
  return raw === 0 ? sizes.default : Math.min(raw, sizes.max);
}

/**
 * A short digest of the request parameters a token is bound to (the list, its
 * filter, its order): a token replayed with other parameters is refused.
 */
export function queryFingerprint(...parts: (string | boolean)[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 16);
}

const NOT_OURS = 'is not a page token issued by this service';

/**
 * Opaque page tokens (AIP-158): the position after the last item of a page,
 * bound to the fingerprint of the query it came from. Not signed: every
 * reader validates the position it gets back.
 */
export function encodeOpaquePageToken(fingerprint: string, position: Record<string, string>): string {
  return Buffer.from(JSON.stringify({ f: fingerprint, p: position }), 'utf8').toString('base64url');
}

/** Decodes a token of `encodeOpaquePageToken` made for the same fingerprint; '' means the first page. */
export function decodeOpaquePageToken(token: string, fingerprint: string, errorId: string): Record<string, string> | undefined {
  if (token === '') return undefined;
  const invalid = (description: string) => invalidArguments(errorId, [{ field: 'page_token', description }]);
  let body: { f?: unknown; p?: unknown } | null;
  try {
    if (token.length > 1024) throw new Error('too long');
    body = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as typeof body;
  } catch {
    throw invalid(NOT_OURS);
  }
  if (
    typeof body !== 'object' ||
    body === null ||
    typeof body.p !== 'object' ||
    body.p === null ||
    Object.values(body.p).some((v) => typeof v !== 'string')
  ) {
    throw invalid(NOT_OURS);
  }
  if (body.f !== fingerprint) throw invalid('was issued for another filter or order; start again without it');
  return body.p as Record<string, string>;
}

/** A keyset token for lists ordered by (created_at, id). */
export function encodePageToken(cursor: PageCursor, fingerprint: string): string {
  return encodeOpaquePageToken(fingerprint, { c: cursor.createdAt.toISOString(), i: cursor.id });
}

/** Decodes `encodePageToken`; a malformed position fails with INVALID_ARGUMENT on page_token. */
export function decodePageToken(token: string, fingerprint: string, errorId: string): PageCursor | undefined {
  const position = decodeOpaquePageToken(token, fingerprint, errorId);
  if (!position) return undefined;
  const createdAt = new Date(position.c ?? '');
  if (!isUuid(position.i ?? '') || Number.isNaN(createdAt.getTime())) {
    throw invalidArguments(errorId, [{ field: 'page_token', description: NOT_OURS }]);
  }
  return { createdAt, id: position.i! };
}

/**
 * Cuts a page from rows fetched with a limit of pageSize + 1: the extra row
 * only tells that another page exists, and the token points after the last
 * row returned.
 */
export function toPage<T extends PageCursor>(
  rows: T[],
  pageSize: number,
  fingerprint: string,
): { items: T[]; nextPageToken: string } {
  const items = rows.slice(0, pageSize);
  const last = items[items.length - 1];
  const nextPageToken =
    rows.length > pageSize && last ? encodePageToken({ createdAt: last.createdAt, id: last.id }, fingerprint) : '';
  return { items, nextPageToken };
}
