import { isCommonPassword } from './common-passwords.js';
import type { Violations } from './errors.js';

/** RFC 5321 limits. */
export const EMAIL_MAX_LENGTH = 254;
export const EMAIL_LOCAL_PART_MAX_LENGTH = 64;
/** Password length bounds, counted in code points after NFKC normalization. */
const PASSWORD_MIN_LENGTH = 8;
const PASSWORD_MAX_LENGTH = 256;

/**
 * Longest string any request field may hold, in UTF-16 code units: room for
 * the longest legitimate value (a provider's ID token) and small enough that
 * every later check of a field stays cheap. Checked at the edge for every
 * string of every request, before anything else looks at it.
 */
export const REQUEST_STRING_MAX_LENGTH = 16 * 1024;
/** How deep a JSON value (google.protobuf.Struct) may nest, and how large it may be (code units of keys and strings). */
export const JSON_MAX_DEPTH = 32;
const JSON_MAX_SIZE = 64 * 1024;

/**
 * How many UTF-16 code units of raw input a bound of N characters admits:
 * a code point takes up to 2 units, and decomposed input (a letter and its
 * combining marks) shrinks under normalization. Checked before normalizing,
 * because NFKC expands some code points 18-fold (U+FDFA): the cost of a check
 * must follow the bound, never the input.
 */
const RAW_UNITS_PER_CHARACTER = 4;

/** Whether `raw` is too long to be worth normalizing for a bound of `maxCharacters` (O(1)). */
function exceedsRawBound(raw: string, maxCharacters: number): boolean {
  return raw.length > maxCharacters * RAW_UNITS_PER_CHARACTER;
}

// Deliberately permissive on the local part (quoted forms aside); strict on what breaks mail routing.
const EMAIL_SHAPE = /^[^\s@"<>()[\]\\,;:]+@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/u;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/u;
/**
 * Characters an address never needs and a look-alike does: controls (Cc),
 * format characters (Cf: zero-width spaces and joiners, bidi overrides, soft
 * hyphen, BOM, tags), other default-ignorable code points (Hangul fillers,
 * variation selectors, the combining grapheme joiner), private-use,
 * unassigned and lone surrogate code points. Whitespace is refused by EMAIL_SHAPE.
 */
const INVISIBLE_IN_EMAIL = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}\p{Default_Ignorable_Code_Point}]/u;

/** "U+200B": how a refused character is named in a violation, since it cannot be shown. */
function codePointName(char: string): string {
  return `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Trims, NFKC-normalizes and lower-cases an email address: the form stored and compared. */
export function normalizeEmail(raw: string): string {
  return raw.trim().normalize('NFKC').toLowerCase();
}

/**
 * Validates an email and returns its normalized form (or '' after recording a
 * violation). Refuses invisible and control characters (INVISIBLE_IN_EMAIL),
 * so no look-alike of an existing address can be registered.
 */
export function checkEmail(field: string, raw: string, violations: Violations): string {
  if (exceedsRawBound(raw, EMAIL_MAX_LENGTH)) {
    violations.add(field, `must be at most ${EMAIL_MAX_LENGTH} characters`);
    return '';
  }
  const email = normalizeEmail(raw);
  if (email.length === 0) {
    violations.add(field, 'is required');
    return '';
  }
  if (email.length > EMAIL_MAX_LENGTH) {
    violations.add(field, `must be at most ${EMAIL_MAX_LENGTH} characters`);
    return '';
  }
  const invisible = INVISIBLE_IN_EMAIL.exec(email);
  if (invisible) {
    violations.add(field, `must not contain invisible or control characters (found ${codePointName(invisible[0])})`);
    return '';
  }
  const at = email.lastIndexOf('@');
  if (at > EMAIL_LOCAL_PART_MAX_LENGTH) {
    violations.add(field, `local part must be at most ${EMAIL_LOCAL_PART_MAX_LENGTH} characters`);
    return '';
  }
  if (!EMAIL_SHAPE.test(email)) {
    violations.add(field, 'must be an email address such as name@example.com');
    return '';
  }
  return email;
}

/** NFKC-normalizes a password, so the same characters typed on any keyboard hash alike (NIST SP 800-63B). */
function normalizePassword(raw: string): string {
  return raw.normalize('NFKC');
}

/**
 * Checks a new password after NIST SP 800-63B and returns its normalized form:
 * a length range and no composition rules; refused when it holds a control
 * character, is one of the most common passwords or the account's email
 * address (or its local part), in any letter case. `email` is the normalized
 * address, or '' when unknown. The length is bounded before normalizing.
 */
export function checkNewPassword(field: string, raw: string, violations: Violations, email: string): string {
  if (exceedsRawBound(raw, PASSWORD_MAX_LENGTH)) {
    violations.add(field, `must be at most ${PASSWORD_MAX_LENGTH} characters`);
    return '';
  }
  const password = normalizePassword(raw);
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) violations.add(field, `must be at least ${PASSWORD_MIN_LENGTH} characters`);
  else if (length > PASSWORD_MAX_LENGTH) violations.add(field, `must be at most ${PASSWORD_MAX_LENGTH} characters`);
  else if (CONTROL_CHARS.test(password)) violations.add(field, 'must not contain control characters');
  else if (isCommonPassword(password))
    violations.add(field, 'is one of the most common passwords; choose a less predictable one');
  else if (email !== '' && resemblesEmail(password, email)) violations.add(field, 'must not be the email address');
  return password;
}

function resemblesEmail(password: string, email: string): boolean {
  const lower = password.toLowerCase();
  return lower === email || lower === email.slice(0, email.lastIndexOf('@'));
}

/**
 * Checks a password presented for sign-in: present, not absurdly long (hashing
 * cost; bounded before normalizing) and without NUL, which no password set
 * here can hold. Other control characters are left to the hash comparison, so
 * imported passwords keep working.
 */
export function checkPresentedPassword(field: string, raw: string, violations: Violations): string {
  if (exceedsRawBound(raw, PASSWORD_MAX_LENGTH)) {
    violations.add(field, `must be at most ${PASSWORD_MAX_LENGTH} characters`);
    return '';
  }
  const password = normalizePassword(raw);
  if (password.length === 0) violations.add(field, 'is required');
  else if ([...password].length > PASSWORD_MAX_LENGTH) violations.add(field, `must be at most ${PASSWORD_MAX_LENGTH} characters`);
  else if (password.includes('\u0000')) violations.add(field, 'must not contain NUL characters');
  return password;
}

/**
 * Trims and bounds free text (bounded before normalizing); control characters
 * are refused (newlines allowed where `multiline`).
 */
export function checkText(
  field: string,
  raw: string,
  maxLength: number,
  violations: Violations,
  options: { multiline?: boolean } = {},
): string {
  if (exceedsRawBound(raw, maxLength)) {
    violations.add(field, `must be at most ${maxLength} characters`);
    return '';
  }
  const text = raw.trim().normalize('NFC');
  if ([...text].length > maxLength) violations.add(field, `must be at most ${maxLength} characters`);
  const forbidden = options.multiline ? text.replace(/[\n\r\t]/g, '') : text;
  if (CONTROL_CHARS.test(forbidden)) violations.add(field, 'must not contain control characters');
  return text;
}

/**
 * The rule every string of every request meets, whatever its field: at most
 * REQUEST_STRING_MAX_LENGTH code units and no NUL (PostgreSQL's text and jsonb
 * cannot hold one). Field rules then apply their own, tighter bounds.
 */
export function checkRequestString(field: string, raw: string, violations: Violations): void {
  if (raw.length > REQUEST_STRING_MAX_LENGTH) {
    violations.add(field, `must be at most ${REQUEST_STRING_MAX_LENGTH} characters`);
  } else if (raw.includes('\u0000')) {
    violations.add(field, 'must not contain NUL characters');
  }
}

/**
 * Checks a JSON value (a google.protobuf.Struct field such as preferences or
 * app_metadata): nested at most JSON_MAX_DEPTH deep, at most `maxSize` in all
 * (code units of keys and strings, plus one per value), and no NUL in a key or
 * a string, which is named by its path (`profile.preferences.theme`). The walk
 * stops at the first problem, so its cost follows the bounds, not the input.
 * Returns whether the value passed.
 */
export function checkJson(field: string, value: unknown, violations: Violations, maxSize = JSON_MAX_SIZE): boolean {
  let size = 0;
  const walk = (path: string, node: unknown, depth: number): boolean => {
    size += 1;
    if (size > maxSize) return refuse(field, `must be at most ${maxSize} characters as JSON`);
    if (typeof node === 'string') {
      size += node.length;
      if (size > maxSize) return refuse(field, `must be at most ${maxSize} characters as JSON`);
      return node.includes('\u0000') ? refuse(path, 'must not contain NUL characters') : true;
    }
    if (node === null || typeof node !== 'object') return true;
    if (depth >= JSON_MAX_DEPTH) return refuse(field, `must nest at most ${JSON_MAX_DEPTH} levels deep`);
    if (Array.isArray(node)) return node.every((item, i) => walk(`${path}[${i}]`, item, depth + 1));
    for (const [key, item] of Object.entries(node)) {
      size += key.length;
      if (size > maxSize) return refuse(field, `must be at most ${maxSize} characters as JSON`);
      if (key.includes('\u0000')) return refuse(path, 'must not contain NUL characters in a key');
      if (!walk(`${path}.${key}`, item, depth + 1)) return false;
    }
    return true;
  };
  const refuse = (path: string, description: string) => {
    violations.add(path, description);
    return false;
  };
  return walk(field, value, 0);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `raw` has the shape of a UUID (any version, any letter case). */
export function isUuid(raw: string): boolean {
  return UUID.test(raw);
}

/** Checks a non-empty identifier is a UUID. */
export function checkUuid(field: string, raw: string, violations: Violations): string {
  if (!isUuid(raw)) violations.add(field, 'must be a UUID');
  return raw.toLowerCase();
}

/**
 * Checks an update mask (FieldMask paths, snake_case) against the paths an
 * update allows: at least one, none unknown, none twice. Returns the paths.
 */
export function checkUpdateMask<P extends string>(mask: string[], allowed: readonly P[], violations: Violations): P[] {
  if (mask.length === 0) violations.add('update_mask', `must name at least one of: ${allowed.join(', ')}`);
  const seen = new Set<string>();
  for (const path of mask) {
    if (!(allowed as readonly string[]).includes(path)) {
      violations.add('update_mask', `unknown path "${path.slice(0, 64)}"; allowed: ${allowed.join(', ')}`);
    } else if (seen.has(path)) {
      violations.add('update_mask', `path "${path}" appears twice`);
    }
    seen.add(path);
  }
  return mask as P[];
}
