import cliProgress from 'cli-progress';

/** Counts shown beside the progress. */
interface ImportCounts {
  imported: number;
  skipped: number;
  failed: number;
}

/** Shows how far through its file an import is. */
export interface ImportProgress {
  update(bytes: number, counts: ImportCounts): void;
  stop(counts: ImportCounts): void;
}

/**
 * A progress bar on a terminal (cli-progress); on anything else (a log file,
 * CI), a plain `import: N%` line every 10% so the output stays readable.
 */
export function importProgress(stream: NodeJS.WriteStream, totalBytes: number): ImportProgress {
  return stream.isTTY ? terminalBar(stream, totalBytes) : plainLines(stream, totalBytes);
}

function terminalBar(stream: NodeJS.WriteStream, totalBytes: number): ImportProgress {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: 'import [{bar}] {percentage}% | imported {imported}, skipped {skipped}, failed {failed} | ETA {eta_formatted}',
      hideCursor: true,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(totalBytes, 0, { imported: 0, skipped: 0, failed: 0 });
  return {
    update: (bytes, counts) => bar.update(Math.min(bytes, totalBytes), counts),
    stop: (counts) => {
      bar.update(totalBytes, counts);
      bar.stop();
    },
  };
}

function plainLines(stream: NodeJS.WritableStream, totalBytes: number): ImportProgress {
  let lastDecile = -1;
  const line = (bytes: number, { imported, skipped, failed }: ImportCounts) => {
    const percent = Math.floor(Math.min(1, bytes / totalBytes) * 100);
    const decile = Math.floor(percent / 10);
    if (decile <= lastDecile) return;
    lastDecile = decile;
    stream.write(`import: ${percent}% (imported ${imported}, skipped ${skipped}, failed ${failed})\n`);
  };
  return { update: line, stop: (counts) => line(totalBytes, counts) };
}
