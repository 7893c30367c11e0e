import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Operation } from '../domain/kernel/operation.js';
import { importUsers, type ImportLine, type ImportOutcome } from '../domain/auth/user-import.js';

/** Lines per transaction. */
const BATCH_SIZE = 500;
/** Problems printed in full; the rest are counted. */
const MAX_PROBLEMS_SHOWN = 20;

/**
 * `tessera import-users FILE.jsonl`: streams the file in batches, drawing a
 * progress bar on stderr (a line every 10% when stderr is not a terminal).
 */
export async function importUsersFromFile(
  newOperation: () => Operation,
  file: string,
  out: { stdout: NodeJS.WritableStream; stderr: NodeJS.WriteStream | NodeJS.WritableStream },
): Promise<ImportOutcome> {
  const totalBytes = Math.max(1, statSync(file).size);
  const progress = progressBar(out.stderr, totalBytes);
  const total: ImportOutcome = { imported: 0, skipped: 0, problems: [] };
  let batch: ImportLine[] = [];
  let bytes = 0;
  let line = 0;

  const flush = async () => {
    const outcome = await importUsers(newOperation(), batch);
    total.imported += outcome.imported;
    total.skipped += outcome.skipped;
    total.problems.push(...outcome.problems);
    batch = [];
    progress(bytes);
  };

  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const text of lines) {
    line += 1;
    bytes += Buffer.byteLength(text, 'utf8') + 1;
    if (text.trim() === '') continue;
    try {
      batch.push({ line, record: JSON.parse(text) });
    } catch {
      total.problems.push({ line, problem: 'not valid JSON' });
    }
    if (batch.length >= BATCH_SIZE) await flush();
  }
  if (batch.length > 0) await flush();
  progress(totalBytes, true);

  for (const p of total.problems.slice(0, MAX_PROBLEMS_SHOWN)) out.stderr.write(`line ${p.line}: ${p.problem}\n`);
  if (total.problems.length > MAX_PROBLEMS_SHOWN)
    out.stderr.write(`... and ${total.problems.length - MAX_PROBLEMS_SHOWN} more problems\n`);
  out.stdout.write(
    `imported ${total.imported}, skipped ${total.skipped} (address already registered), failed ${total.problems.length}\n`,
  );
  return total;
}

/** Returns a function that shows how far through the file the import is. */
function progressBar(stream: NodeJS.WritableStream, totalBytes: number): (bytes: number, done?: boolean) => void {
  const tty = (stream as NodeJS.WriteStream).isTTY === true;
  let lastDecile = -1;
  return (bytes, done = false) => {
    const ratio = Math.min(1, bytes / totalBytes);
    const percent = Math.floor(ratio * 100);
    if (tty) {
      const width = 30;
      const filled = Math.round(ratio * width);
      stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(percent).padStart(3)}%${done ? '\n' : ''}`);
      return;
    }
    const decile = Math.floor(percent / 10);
    if (decile > lastDecile) {
      lastDecile = decile;
      stream.write(`import: ${percent}%\n`);
    }
  };
}
