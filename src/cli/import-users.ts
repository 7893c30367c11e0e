import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { ImportLine, ImportOutcome } from '../domain/auth/user-import.js';
import { importProgress } from './import-progress.js';

/** Lines per transaction. */
const BATCH_SIZE = 500;
/** Problems printed in full; the rest are counted. */
const MAX_PROBLEMS_SHOWN = 20;

/**
 * Streams a JSONL file into `importBatch` in batches of {@link BATCH_SIZE},
 * showing progress on stderr, then prints the problems (stderr) and a summary (stdout).
 */
export async function importUsersFromFile(
  file: string,
  importBatch: (lines: ImportLine[]) => Promise<ImportOutcome>,
  out: { stdout: NodeJS.WritableStream; stderr: NodeJS.WriteStream },
): Promise<ImportOutcome> {
  const totalBytes = Math.max(1, statSync(file).size);
  const progress = importProgress(out.stderr, totalBytes);
  const total: ImportOutcome = { imported: 0, skipped: 0, problems: [] };
  const counts = () => ({ imported: total.imported, skipped: total.skipped, failed: total.problems.length });
  let batch: ImportLine[] = [];
  let bytes = 0;
  let line = 0;

  const flush = async () => {
    const outcome = await importBatch(batch);
    total.imported += outcome.imported;
    total.skipped += outcome.skipped;
    total.problems.push(...outcome.problems);
    batch = [];
    progress.update(bytes, counts());
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
  progress.stop(counts());

  for (const p of total.problems.slice(0, MAX_PROBLEMS_SHOWN)) out.stderr.write(`line ${p.line}: ${p.problem}\n`);
  if (total.problems.length > MAX_PROBLEMS_SHOWN)
    out.stderr.write(`... and ${total.problems.length - MAX_PROBLEMS_SHOWN} more problems\n`);
  out.stdout.write(
    `imported ${total.imported}, skipped ${total.skipped} (address already registered), failed ${total.problems.length}\n`,
  );
  return total;
}
