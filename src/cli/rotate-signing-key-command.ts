import type { Command } from 'commander';
import type { Orm } from '../db/index.js';
import { systemContext } from '../domain/context.js';
import type { DomainDeps } from '../domain/deps.js';
import type { CliContext, RunCommand } from './cli-context.js';
import { loadCliConfig, withDomain } from './command-runtime.js';
import { ExitCode } from './exit-codes.js';

/** `tessera rotate-signing-key [--now]`: promotes the published next key and publishes a new next key. */
export function addRotateSigningKeyCommand(program: Command, run: RunCommand, context: CliContext) {
  program
    .command('rotate-signing-key')
    .description('promote the published next signing key and publish a new next key')
    .option('--now', 'promote even if the next key was published less than SIGNING_KEY_PROPAGATION_SECONDS ago', false)
    .addHelpText(
      'after',
      `
Without --now, a next key younger than the propagation delay is left in place
(exit 0) and the time it may be promoted is printed: verifiers that cache the
JWKS must have seen it first. Running instances pick the new key up within
SIGNING_KEYS_RELOAD_SECONDS. Prints "active KID", "retired KID" and "next KID".

Examples:
  tessera rotate-signing-key
  tessera rotate-signing-key --now`,
    )
    .action((options: { now: boolean }) => run(() => rotateFromCli(context, options.now)));
}

async function rotateFromCli(context: CliContext, immediate: boolean): Promise<ExitCode> {
  const config = loadCliConfig(context);
  const { log, io } = context;
  return withDomain(config, context, async (deps, orm) => {
    const result = await rotateSigningKey(deps, orm, immediate);
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

/** The domain call, kept alone so it follows the domain's signature in one line. */
function rotateSigningKey(deps: DomainDeps, orm: Orm, immediate: boolean) {
  return deps.signingKeys.rotate(orm.em.fork(), systemContext('cli'), { immediate });
}
