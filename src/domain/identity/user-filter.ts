import { USER_ROLES, USER_STATUSES, type UserCondition, type UserRole, type UserStatus } from '../../db/index.js';
import { invalidArguments } from '../kernel/errors.js';
import { normalizeEmail } from '../kernel/validation.js';

/**
 * ListUsers' filter: a small subset of AIP-160, parsed into typed conditions
 * (never spliced into SQL).
 *
 *   filter     := comparison ("AND" comparison)*
 *   comparison := field op value
 *   field      := status | role | email | created_at | create_time | app_metadata.KEY[.KEY...]
 *   op         := = | != | < | <= | > | >= | :
 *   value      := "quoted string" | number | true | false | bare word | *
 *
 * OR, NOT and parentheses are not supported; an empty filter matches everyone.
 */
const FILTER_MAX_LENGTH = 2000;
const MAX_COMPARISONS = 20;
const MAX_PATH_DEPTH = 8;
const KEY = /^[A-Za-z0-9_-]{1,64}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;
const FIELDS = 'status, role, email, created_at (or create_time), app_metadata.KEY';

type Token =
  | { kind: 'word'; text: string; at: number }
  | { kind: 'string'; text: string; at: number }
  | { kind: 'number'; value: number; text: string; at: number }
  | { kind: 'op'; text: string; at: number }
  | { kind: 'star'; at: number };

/** A filter that does not parse; `message` says where and why, for BadRequest's description. */
class FilterError extends Error {}

/** Parses a filter; fails with INVALID_ARGUMENT on `filter`, describing the first problem. */
export function parseUserFilter(filter: string, errorId: string): UserCondition[] {
  try {
    return parse(filter);
  } catch (err) {
    if (err instanceof FilterError) throw invalidArguments(errorId, [{ field: 'filter', description: err.message }]);
    throw err;
  }
}

function parse(filter: string): UserCondition[] {
  if (filter.length > FILTER_MAX_LENGTH) throw new FilterError(`must be at most ${FILTER_MAX_LENGTH} characters`);
  const tokens = tokenize(filter);
  if (tokens.length === 0) return [];
  const conditions: UserCondition[] = [];
  let i = 0;
  const next = (expected: string): Token => {
    const token = tokens[i++];
    if (!token) throw new FilterError(`unexpected end of filter: expected ${expected}`);
    return token;
  };
  for (;;) {
    const field = next('a field');
    if (field.kind === 'word' && (field.text === 'NOT' || field.text === 'OR')) {
      throw new FilterError(`at position ${field.at + 1}: ${field.text} is not supported; join comparisons with AND`);
    }
    if (field.kind !== 'word' || field.text === 'AND')
      throw new FilterError(`at position ${field.at + 1}: expected a field (${FIELDS})`);
    const op = next(`an operator after "${field.text}"`);
    if (op.kind !== 'op')
      throw new FilterError(`at position ${op.at + 1}: expected an operator (=, !=, <, <=, >, >=, :) after "${field.text}"`);
    const value = next(`a value after "${field.text} ${op.text}"`);
    if (value.kind === 'op')
      throw new FilterError(`at position ${value.at + 1}: expected a value after "${field.text} ${op.text}"`);
    conditions.push(comparison(field.text, op.text, value));
    if (conditions.length > MAX_COMPARISONS) throw new FilterError(`may have at most ${MAX_COMPARISONS} comparisons`);
    const joiner = tokens[i++];
    if (!joiner) return conditions;
    if (joiner.kind !== 'word' || joiner.text !== 'AND') {
      const seen = joiner.kind === 'star' ? '*' : joiner.text;
      const hint = seen === 'OR' || seen === 'NOT' ? `${seen} is not supported; ` : '';
      throw new FilterError(`at position ${joiner.at + 1}: ${hint}expected AND between comparisons, found "${seen}"`);
    }
  }
}

function tokenize(filter: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < filter.length) {
    const ch = filter[i];
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '"') {
      const start = i++;
      let text = '';
      for (;;) {
        if (i >= filter.length) throw new FilterError(`at position ${start + 1}: unterminated string`);
        const c = filter[i++];
        if (c === '"') break;
        if (c === '\\' && i < filter.length) text += filter[i++];
        else text += c;
      }
      tokens.push({ kind: 'string', text, at: start });
    } else if ('=!<>:'.includes(ch)) {
      const two = filter.slice(i, i + 2);
      const text = ['!=', '<=', '>='].includes(two) ? two : ch;
      if (text === '!') throw new FilterError(`at position ${i + 1}: "!" must be followed by "="`);
      tokens.push({ kind: 'op', text, at: i });
      i += text.length;
    } else if (ch === '*') {
      tokens.push({ kind: 'star', at: i++ });
    } else {
      const match = /^[A-Za-z0-9_.+-]+/.exec(filter.slice(i));
      if (!match) throw new FilterError(`at position ${i + 1}: unexpected character "${ch}"`);
      const text = match[0];
      const number = /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : undefined;
      tokens.push(number === undefined ? { kind: 'word', text, at: i } : { kind: 'number', value: number, text, at: i });
      i += text.length;
    }
  }
  return tokens;
}

function comparison(field: string, op: string, value: Exclude<Token, { kind: 'op' }>): UserCondition {
  const where = `"${field} ${op}"`;
  const text = value.kind === 'star' ? '*' : value.text;
  if (field === 'status' || field === 'role') {
    if (op !== '=' && op !== '!=') throw new FilterError(`${field} supports = and != only`);
    if (value.kind === 'star') throw new FilterError(`${where} needs a value`);
    return field === 'status'
      ? { field, op, value: enumValue(field, text, USER_STATUSES, 'USER_STATUS_') as UserStatus }
      : { field, op, value: enumValue(field, text, USER_ROLES, 'ROLE_') as UserRole };
  }
  if (field === 'email') {
    // Addresses are stored encrypted behind a blind index: equality is all that can be searched.
    if (op !== '=') throw new FilterError('email supports = (exact address) only: addresses are stored encrypted');
    if (value.kind !== 'string') throw new FilterError(`${where} needs a quoted string, e.g. email = "ada@example.com"`);
    return { field, op, value: normalizeEmail(text) };
  }
  if (field === 'created_at' || field === 'create_time') {
    if (!['=', '<', '<=', '>', '>='].includes(op)) throw new FilterError(`${field} supports =, <, <=, > and >= only`);
    const time = value.kind === 'string' && RFC3339.test(text) ? new Date(text) : undefined;
    if (!time || Number.isNaN(time.getTime())) {
      throw new FilterError(`${where} needs an RFC 3339 time in quotes, e.g. "2026-01-01T00:00:00Z"`);
    }
    return { field: 'created_at', op: op as '=' | '<' | '<=' | '>' | '>=', value: time };
  }
  if (field.startsWith('app_metadata.')) {
    const path = field.slice('app_metadata.'.length).split('.');
    if (path.length > MAX_PATH_DEPTH || !path.every((key) => KEY.test(key))) {
      throw new FilterError(`"${field}": keys are 1 to 64 letters, digits, "_" or "-", at most ${MAX_PATH_DEPTH} deep`);
    }
    if (op === ':') {
      if (value.kind !== 'star') throw new FilterError(`${where} only takes * (has the key), e.g. ${field}:*`);
      return { field: 'app_metadata', op: 'has', path };
    }
    if (op !== '=' && op !== '!=') throw new FilterError('app_metadata keys support =, != and :* only');
    return { field: 'app_metadata', op, path, value: metadataValue(where, value) };
  }
  if (field === 'app_metadata') throw new FilterError('name a key: app_metadata.KEY, e.g. app_metadata.plan = "pro"');
  throw new FilterError(`unknown field "${field.slice(0, 64)}"; known fields: ${FIELDS}`);
}

function enumValue(field: string, raw: string, allowed: readonly string[], protoPrefix: string): string {
  const lower = raw.toLowerCase();
  const value = lower.startsWith(protoPrefix.toLowerCase()) ? lower.slice(protoPrefix.length) : lower;
  if (!allowed.includes(value)) throw new FilterError(`${field} must be one of ${allowed.join(', ')}; got "${raw.slice(0, 64)}"`);
  return value;
}

function metadataValue(where: string, value: Exclude<Token, { kind: 'op' }>): string | number | boolean {
  if (value.kind === 'string') return value.text;
  if (value.kind === 'number') return value.value;
  if (value.kind === 'word' && (value.text === 'true' || value.text === 'false')) return value.text === 'true';
  throw new FilterError(`${where} needs a quoted string, a number, true or false`);
}
