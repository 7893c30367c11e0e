import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { Violations } from '../kernel/errors.js';
import { checkText } from '../kernel/validation.js';

/** Longest value of each text field, in characters (stated in profile.proto). */
export const PROFILE_TEXT_LIMITS = { full_name: 200, avatar_url: 2048, bio: 2000, location: 200 } as const;
/** Preferences: at most this many bytes as JSON, and objects or lists nested at most this deep. */
const PREFERENCES_MAX_BYTES = 16 * 1024;
const PREFERENCES_MAX_DEPTH = 8;
/** Longest phone number input worth parsing: "+" and 15 digits with room for spaces, dashes and parentheses. */
const PHONE_INPUT_MAX_LENGTH = 32;
/** What a phone number may be typed with: a leading "+" (international form), digits and the usual separators. */
const PHONE_INPUT = /^\+[0-9 ().-]+$/;

/**
 * Characters with no visible form that let a name or place look like another
 * (or reorder what is shown around it): bidi embeddings, overrides and isolates,
 * zero-width space, word joiner and invisible operators, the BOM, tags,
 * private-use, unassigned and lone surrogate code points. ZWJ and ZWNJ stay
 * allowed: emoji sequences and scripts such as Persian need them.
 */
const INVISIBLE_IN_TEXT =
  /[\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u{e0000}-\u{e007f}\p{Co}\p{Cn}\p{Cs}]/u;

/** Bounded text without control or invisible characters (see INVISIBLE_IN_TEXT). */
export function checkProfileText(
  field: string,
  raw: string,
  maxLength: number,
  v: Violations,
  options: { multiline?: boolean } = {},
): string {
  const text = checkText(field, raw, maxLength, v, options);
  const invisible = INVISIBLE_IN_TEXT.exec(text);
  if (invisible) {
    const name = `U+${invisible[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    v.add(field, `must not contain invisible characters (found ${name})`);
  }
  return text;
}

/**
 * A phone number in international form, checked against the full numbering
 * plan metadata (libphonenumber's "max" set: the number's country, length and
 * ranges), returned in E.164 form ("+14155550123"); '' clears it. Extensions
 * are refused: E.164 has none.
 */
export function checkPhoneNumber(field: string, raw: string, v: Violations): string {
  const input = raw.trim();
  if (input === '') return '';
  const refuse = () => {
    v.add(field, 'must be a valid phone number in international E.164 form such as +351912345678');
    return '';
  };
  if (input.length > PHONE_INPUT_MAX_LENGTH || !PHONE_INPUT.test(input)) return refuse();
  const parsed = parsePhoneNumberFromString(input);
  if (!parsed || parsed.ext || !parsed.isValid()) return refuse();
  return parsed.number;
}

/**
 * An https URL (WHATWG parsing) with a host, no user name or password in it
 * (credentials would be shown to everyone who sees the profile), at most
 * PROFILE_TEXT_LIMITS.avatar_url characters; '' clears it. Returns the URL as given.
 */
export function checkAvatarUrl(field: string, raw: string, v: Violations): string {
  const text = checkProfileText(field, raw, PROFILE_TEXT_LIMITS.avatar_url, v);
  if (text === '' || v.has(field)) return text;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    v.add(field, 'must be an https URL');
    return text;
  }
  if (url.protocol !== 'https:' || url.hostname === '') v.add(field, 'must be an https URL');
  else if (url.username !== '' || url.password !== '') v.add(field, 'must not contain a user name or password');
  return text;
}

/**
 * Preferences: objects and lists nested at most PREFERENCES_MAX_DEPTH deep
 * (measured iteratively, so no input can exhaust the stack), then at most
 * PREFERENCES_MAX_BYTES as JSON. Returns the value, or {} after a violation.
 */
export function checkPreferences(field: string, value: Record<string, unknown>, v: Violations): Record<string, unknown> {
  if (jsonDepthExceeds(value, PREFERENCES_MAX_DEPTH)) {
    v.add(field, `must nest objects and lists at most ${PREFERENCES_MAX_DEPTH} levels deep`);
    return {};
  }
  if (Buffer.byteLength(JSON.stringify(value)) > PREFERENCES_MAX_BYTES) {
    v.add(field, `must be at most ${PREFERENCES_MAX_BYTES} bytes as JSON`);
    return {};
  }
  return value;
}

/** Whether objects and lists in `root` nest deeper than `maxDepth` (the root object is level 1). Iterative. */
function jsonDepthExceeds(root: unknown, maxDepth: number): boolean {
  const pending: { node: unknown; depth: number }[] = [{ node: root, depth: 1 }];
  while (pending.length > 0) {
    const { node, depth } = pending.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > maxDepth) return true;
    for (const child of Object.values(node)) {
      if (child !== null && typeof child === 'object') pending.push({ node: child, depth: depth + 1 });
    }
  }
  return false;
}
