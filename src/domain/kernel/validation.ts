import { isCommonPassword } from './common-passwords.js';
import type { Violations } from './errors.js';

/** RFC 5321 limits. */
export const EMAIL_MAX_LENGTH = 254;
export const EMAIL_LOCAL_PART_MAX_LENGTH = 64;
/** Password length bounds, counted in code points after NFKC normalization. */
const PASSWORD_MIN_LENGTH = 8;
const PASSWORD_MAX_LENGTH = 256;

// Deliberately permissive on the local part (quoted forms aside); strict on what breaks mail routing.
const EMAIL_SHAPE = /^[^\s@"<>()[\]\\,;:]+@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/u;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/u;

/** Trims, NFKC-normalizes and lower-cases an email address: the form stored and compared. */
export function normalizeEmail(raw: string): string {
  return raw.trim().normalize('NFKC').toLowerCase();
}

/** Validates an email and returns its normalized form (or '' after recording a violation). */
export function checkEmail(field: string, raw: string, violations: Violations): string {
  const email = normalizeEmail(raw);
  if (email.length === 0) {
    violations.add(field, 'is required');
    return '';
  }
  if (email.length > EMAIL_MAX_LENGTH) {
    violations.add(field, `must be at most ${EMAIL_MAX_LENGTH} characters`);
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
 * a length range and no composition rules; refused when it is one of the most
 * common passwords or the account's email address (or its local part), in any
 * letter case. `email` is the normalized address, or '' when unknown.
 */
export function checkNewPassword(field: string, raw: string, violations: Violations, email: string): string {
  const password = normalizePassword(raw);
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) violations.add(field, `must be at least ${PASSWORD_MIN_LENGTH} characters`);
  else if (length > PASSWORD_MAX_LENGTH) violations.add(field, `must be at most ${PASSWORD_MAX_LENGTH} characters`);
  else if (isCommonPassword(password))
    violations.add(field, 'is one of the most common passwords; choose a less predictable one');
  else if (email !== '' && resemblesEmail(password, email)) violations.add(field, 'must not be the email address');
  return password;
}

function resemblesEmail(password: string, email: string): boolean {
  const lower = password.toLowerCase();
  return lower === email || lower === email.slice(0, email.lastIndexOf('@'));
}

/** Checks a password presented for sign-in: present and not absurdly long (hashing cost). */
export function checkPresentedPassword(field: string, raw: string, violations: Violations): string {
  const password = normalizePassword(raw);
  if (password.length === 0) violations.add(field, 'is required');
  else if ([...password].length > PASSWORD_MAX_LENGTH) violations.add(field, `must be at most ${PASSWORD_MAX_LENGTH} characters`);
  return password;
}

/** Trims and bounds free text; control characters are refused (newlines allowed where `multiline`). */
export function checkText(
  field: string,
  raw: string,
  maxLength: number,
  violations: Violations,
  options: { multiline?: boolean } = {},
): string {
  const text = raw.trim().normalize('NFC');
  if ([...text].length > maxLength) violations.add(field, `must be at most ${maxLength} characters`);
  const forbidden = options.multiline ? text.replace(/[\n\r\t]/g, '') : text;
  if (CONTROL_CHARS.test(forbidden)) violations.add(field, 'must not contain control characters');
  return text;
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
