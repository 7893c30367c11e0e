import type { CliContext } from './cli-context.js';
import { loadCliConfig, withDomain } from './command-runtime.js';
import { ExitCode } from './exit-codes.js';

/** Rotates the signing keys and prints their ids (`tessera rotate-signing-key`). */
export async function runRotateSigningKey(context: CliContext, immediate: boolean): Promise<ExitCode> {
  const config = loadCliConfig(context);
  const { log, io } = context;
  return withDomain(config, context, async (newOperation) => {
    const op = newOperation();
    const result = await op.deps.signingKeys.rotate(op, { immediate });
    if (result.promoted) {
      log.info({ activeKid: result.activeKid, retiredKid: result.retiredKid, nextKid: result.nextKid }, 'signing key rotated');
      io.stdout.write(`active ${result.activeKid}\nretired ${result.retiredKid}\nnext ${result.nextKid}\n`);
    } else {
      log.info(
        { activeKid: result.activeKid, nextKid: result.nextKid, promotableAt: result.promotableAt },
        'next key published; not yet promoted',
      );
      io.stdout.write(
        `next key ${result.nextKid} is published but too recent to sign; run again after ${result.promotableAt!.toISOString()} or use --now\n`,
      );
    }
    return ExitCode.ok;
  });
}
