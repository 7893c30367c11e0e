import cliProgress from 'cli-progress';

/** Shows how far a master key rotation is. */
export interface RotationProgressView {
  update(done: number, total: number): void;
  stop(): void;
}

/**
 * A progress bar on a terminal (cli-progress); on anything else (a log file,
 * CI), a plain `rotate-master-key: N%` line every 10%.
 */
export function rotationProgress(stream: NodeJS.WriteStream): RotationProgressView {
  return stream.isTTY ? terminalBar(stream) : plainLines(stream);
}

function terminalBar(stream: NodeJS.WriteStream): RotationProgressView {
  const bar = new cliProgress.SingleBar(
    { stream, format: 'rotate-master-key [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted}', hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update: (done, total) => {
      if (!started) bar.start(total, done);
      else bar.setTotal(total);
      started = true;
      bar.update(done);
    },
    stop: () => bar.stop(),
  };
}

function plainLines(stream: NodeJS.WritableStream): RotationProgressView {
  let lastDecile = -1;
  return {
    update: (done, total) => {
      const percent = total === 0 ? 100 : Math.floor((done / total) * 100);
      const decile = Math.floor(percent / 10);
      if (decile <= lastDecile) return;
      lastDecile = decile;
      stream.write(`rotate-master-key: ${percent}% (${done} of ${total})\n`);
    },
    stop: () => {},
  };
}
