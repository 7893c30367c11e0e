import { createHash } from 'node:crypto';
import type { PageCursor } from '../db/index.js';
import { invalidArguments, type Violations } from './errors.js';
import { isUuid } from './validation.js';

/** AIP-158 sizes: 0 means the default; larger than the maximum is lowered to it. */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

/** Checks page_size and returns the size to use. */
export function checkPageSize(raw: number, violations: Violations): number {
  if (!Number.isInteger(raw) || raw < 0) {
    violations.add('page_size', `must be between 0 and ${MAX_PAGE_SIZE} (0 means ${DEFAULT_PAGE_SIZE})`);
    return DEFAULT_PAGE_SIZE;
  }
  return raw === 0 ? DEFAULT_PAGE_SIZE : Math.min(raw, MAX_PAGE_SIZE);
}

/**
 * A short digest of the request parameters a token is bound to (the list, its
 * filter, show_deleted): a token replayed with other parameters is refused.
 */
export function queryFingerprint(...parts: (string | boolean)[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 16);
}

interface TokenBody {
  v: 1;
  /** created_at of the last row returned, ISO 8601. */
  c: string;
  /** id of the last row returned. */
  i: string;
  /** queryFingerprint of the request. */
  f: string;
}

/** An opaque continuation token: base64url of the keyset position and the query fingerprint. */
export function encodePageToken(cursor: PageCursor, fingerprint: string): string {
  const body: TokenBody = { v: 1, c: cursor.createdAt.toISOString(), i: cursor.id, f: fingerprint };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

/**
 * Decodes a page token made by encodePageToken for the same query. An empty
 * token means the first page. Anything else (malformed, or made for another
 * filter) fails with INVALID_ARGUMENT on page_token.
 */
export function decodePageToken(token: string, fingerprint: string, errorId: string): PageCursor | undefined {
  if (token === '') return undefined;
  const invalid = (description: string) => invalidArguments(errorId, [{ field: 'page_token', description }]);
  let body: Partial<TokenBody>;
  try {
    if (token.length > 512) throw new Error('too long');
    body = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<TokenBody>;
  } catch {
    throw invalid('is not a token this list returned');
  }
  const createdAt = new Date(body?.c ?? '');
  if (body?.v !== 1 || typeof body.i !== 'string' || !isUuid(body.i) || Number.isNaN(createdAt.getTime())) {
    throw invalid('is not a token this list returned');
  }
  if (body.f !== fingerprint) throw invalid('was made for another filter or show_deleted; start again without a token');
  return { createdAt, id: body.i };
}

/**
 * Cuts a page from rows fetched with a limit of pageSize + 1: the extra row
 * only tells that another page exists, and the token points after the last
 * row returned.
 */
export function toPage<T extends PageCursor>(rows: T[], pageSize: number, fingerprint: string): { items: T[]; nextPageToken: string } {
  const items = rows.slice(0, pageSize);
  const last = items[items.length - 1];
  const nextPageToken = rows.length > pageSize && last ? encodePageToken({ createdAt: last.createdAt, id: last.id }, fingerprint) : '';
  return { items, nextPageToken };
}
