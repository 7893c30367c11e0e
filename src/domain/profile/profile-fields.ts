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
 * What an avatar URL may not contain: whitespace (WHATWG parsing would drop
 * tabs and newlines, so the URL fetched is not the one shown) and characters
 * with no visible form (format characters such as the soft hyphen, which IDNA
 * drops from a host name, and every default-ignorable code point).
 */
const INVISIBLE_IN_URL = /[\s\p{Cf}\p{Default_Ignorable_Code_Point}]/u;

/** A host name or an IPv4 / IPv6 literal as WHATWG serializes it. */
const IP_LITERAL = /^(\d+\.){3}\d+$|^\[/;

/**
 * An https URL, returned in its WHATWG serialization (scheme and host in lower
 * case, IDN hosts in punycode, the default port and dot segments removed,
 * backslashes as slashes, the rest percent-encoded), which is what is stored;
 * '' clears it. The URL, as typed and in that form, is at most
 * PROFILE_TEXT_LIMITS.avatar_url characters, with no whitespace, control or
 * invisible character. Refused besides: a user name or password (shown to
 * everyone who sees the profile), and anything but a public host name on the
 * default port: an IP address, a host of one label (localhost, intranet
 * names) or an explicit port. Every viewer's browser, and any backend that
 * proxies or resizes avatars, fetches this URL: an address or port of the
 * inside of a network there turns profiles into probes of it, and public
 * image hosts need neither.
 */
export function checkAvatarUrl(field: string, raw: string, v: Violations): string {
  const text = checkProfileText(field, raw, PROFILE_TEXT_LIMITS.avatar_url, v);
  if (text === '' || v.has(field)) return text;
  const refuse = (why: string) => {
    v.add(field, why);
    return text;
  };
  if (INVISIBLE_IN_URL.test(text)) return refuse('must not contain whitespace or invisible characters');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return refuse('must be an https URL');
  }
  if (url.protocol !== 'https:' || url.hostname === '') return refuse('must be an https URL');
  if (url.username !== '' || url.password !== '') return refuse('must not contain a user name or password');
  if (url.port !== '') return refuse('must use the default https port');
  const host = url.hostname.replace(/\.$/, '');
  if (IP_LITERAL.test(host) || !host.includes('.')) return refuse('must name a public host, not an address');
  if ([...url.href].length > PROFILE_TEXT_LIMITS.avatar_url) {
    return refuse(`must be at most ${PROFILE_TEXT_LIMITS.avatar_url} characters once normalized`);
  }
  return url.href;
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
