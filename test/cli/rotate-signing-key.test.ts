import { expect } from 'chai';
import { useCliSandbox } from '../helpers/cli-sandbox.js';
import type { TestDatabase } from '../helpers/database.js';
import { sql } from '../helpers/fixtures.js';
import { runTessera } from '../helpers/process.js';

/** kid by state. */
async function keyStates(db: TestDatabase): Promise<Record<string, string[]>> {
  const rows = await sql<{ kid: string; state: string }>('select kid, state from signing_keys order by created_at', [], db);
  const out: Record<string, string[]> = {};
  for (const { kid, state } of rows) (out[state] ??= []).push(kid);
  return out;
}

describe('tessera rotate-signing-key', function () {
  this.timeout(30_000);
  const sandbox = useCliSandbox();
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    ({ db, env } = await sandbox.fresh());
    // The first run on a fresh database publishes the first active and next keys.
    const first = await runTessera(['rotate-signing-key'], env);
    expect(first.code, first.stderr).to.equal(0);
  });

  it('leaves a next key younger than the propagation delay in place, says when it may sign, and exits 0', async () => {
    const before = await keyStates(db);
    const result = await runTessera(['rotate-signing-key'], env);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.match(
      new RegExp(`next key ${before.next[0]} is published but too recent to sign; run again after \\S+Z or use --now`),
    );
    expect(await keyStates(db)).to.deep.equal(before);
  });

  it('promotes the next key with --now, retires the active one, publishes a new next key, and prints the three kids', async () => {
    const before = await keyStates(db);
    const result = await runTessera(['rotate-signing-key', '--now'], env);
    expect(result.code, result.stderr).to.equal(0);
    const printed = Object.fromEntries(result.stdout.match(/^(active|retired|next) \S+$/gm)!.map((l) => l.split(' ')));
    expect(printed.active).to.equal(before.next[0]);
    expect(printed.retired).to.equal(before.active[0]);
    const after = await keyStates(db);
    expect(after.active).to.deep.equal([printed.active]);
    expect(after.next).to.deep.equal([printed.next]);
    expect(after.retired).to.include(printed.retired);
    expect(result.stdout).to.contain('signing key rotated');
  });
});
