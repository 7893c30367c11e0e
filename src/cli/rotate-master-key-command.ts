import { InvalidArgumentError, type Command } from 'commander';
import type { CliContext, RunCommand } from './cli-context.js';

/** `tessera rotate-master-key [--batch-size N]`: re-seals everything under TESSERA_MASTER_KEY. */
export function addRotateMasterKeyCommand(program: Command, run: RunCommand, context: CliContext) {
  program
    .command('rotate-master-key')
    .description('re-wrap every data key and re-encrypt what the master key protects under TESSERA_MASTER_KEY')
    .option('--batch-size <rows>', 'rows re-sealed per transaction (1-10000)', parseBatchSize, 500)
    .addHelpText(
      'after',
      `
Before: give every instance the new key as TESSERA_MASTER_KEY and the old one
in TESSERA_PREVIOUS_MASTER_KEYS, and restart them. Then run this command: it
re-wraps the users' data keys and re-encrypts the signing keys' private
halves, refresh successors and queued mail in short transactions, while the
service serves. Rows already under the new key are skipped, so an
interrupted run is simply run again. When it exits 0, drop the old key from
TESSERA_PREVIOUS_MASTER_KEYS. Prints a progress bar on a terminal, plain
"rotate-master-key: N%" lines otherwise, then the counts per kind.

Examples:
  tessera rotate-master-key
  tessera rotate-master-key --batch-size 2000`,
    )
    .action((options: { batchSize: number }) =>
      run(async () => (await import('./run-rotate-master-key.js')).runRotateMasterKey(context, options.batchSize)),
    );
}

function parseBatchSize(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new InvalidArgumentError('must be a whole number from 1 to 10000');
  return n;
}
