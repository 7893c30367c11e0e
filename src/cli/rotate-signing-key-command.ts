import type { Command } from 'commander';
import type { CliContext, RunCommand } from './cli-context.js';

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
    .action((options: { now: boolean }) =>
      run(async () => (await import('./run-rotate-signing-key.js')).runRotateSigningKey(context, options.now)),
    );
}
