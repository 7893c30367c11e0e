import { systemClock } from '../clock.js';
import { buildDomain } from '../domain-dependencies.js';
import { createRetentionJob } from '../jobs/retention.js';
import { Metrics } from '../metrics.js';
import type { CliContext } from './cli-context.js';
import { loadCliConfig, withDatabase } from './command-runtime.js';
import { ExitCode } from './exit-codes.js';

/** Runs one retention pass and prints the counts (`tessera retention run`). */
export async function runRetentionOnce(context: CliContext): Promise<ExitCode> {
  const config = loadCliConfig(context);
  const { log, io } = context;
  return withDatabase(config, context, async (orm, _applied, keyStore) => {
    const deps = await buildDomain(config, orm, systemClock, keyStore);
    // The job's metrics have no scraper here: the counts go to stdout instead.
    const job = createRetentionJob(orm, deps, config.retention, log, new Metrics());
    const counts = await job.runOnce();
    if (!counts) {
      io.stdout.write('skipped: another instance is running retention right now\n');
      return ExitCode.ok;
    }
    io.stdout.write(
      Object.entries(counts)
        .map(([kind, n]) => `${kind} ${n}\n`)
        .join(''),
    );
    return ExitCode.ok;
  });
}
