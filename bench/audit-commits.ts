// `npm run bench:audit-commits`: audited commits per second with N concurrent writers,
// straight through db/audit-log.ts (no gRPC in front), on a fresh database.
// Phases alternate between today's append and the old one (every audited
// commit serialized by one advisory lock), so machine noise hits both and the
// ratio is measured back to back.
import { Command } from 'commander';
import { appendAuditEvents, connectOrm, migrateToLatest, type NewAuditEvent, type Orm } from '../src/db/index.js';
import { createBenchDatabase } from './fixtures.js';

/** The advisory lock key the append took before (issue #11): emulated for the comparison. */
const OLD_APPEND_LOCK = 0x7e55e7a;

const program = new Command('audit-commits')
  .option('--writers <n>', 'concurrent audited transactions', Number, 32)
  .option('--seconds <n>', 'seconds per phase', Number, 5)
  .option('--rounds <n>', 'rounds of (serialized, lock-free) phases', Number, 2)
  .option('--json', 'print the results as JSON on the last line', false)
  .parse();
const opts = program.opts<{ writers: number; seconds: number; rounds: number; json: boolean }>();

function event(n: number): NewAuditEvent {
  return {
    occurredAt: new Date(),
    type: 'profile.updated',
    actorType: 'system',
    actorId: null,
    subjectUserId: null,
    ip: null,
    userAgent: null,
    requestId: `bench-${n}`,
    metadata: { fields: ['bio'] },
  };
}

/** Commits audited transactions from `writers` loops for `seconds`; returns commits per second. */
async function phase(orm: Orm, serialized: boolean): Promise<number> {
  let commits = 0;
  const until = performance.now() + opts.seconds * 1000;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: opts.writers }, async () => {
      while (performance.now() < until) {
        await orm.em.fork().transactional(async (tx) => {
          if (serialized) await tx.execute('select pg_advisory_xact_lock(?)', [OLD_APPEND_LOCK]);
          await appendAuditEvents(tx, [event(commits)]);
        });
        commits++;
      }
    }),
  );
  return commits / ((performance.now() - began) / 1000);
}

async function main(): Promise<void> {
  const db = await createBenchDatabase();
  const orm = await connectOrm(db.url, opts.writers + 2);
  try {
    await migrateToLatest(orm);
    await phase(orm, false); // warm-up: connections, prepared plans
    const serialized: number[] = [];
    const lockFree: number[] = [];
    for (let round = 0; round < opts.rounds; round++) {
      serialized.push(await phase(orm, true));
      lockFree.push(await phase(orm, false));
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const result = {
      writers: opts.writers,
      seconds: opts.seconds,
      serializedPerSecond: Math.round(mean(serialized)),
      lockFreePerSecond: Math.round(mean(lockFree)),
      ratio: Number((mean(lockFree) / mean(serialized)).toFixed(2)),
      rounds: { serialized: serialized.map(Math.round), lockFree: lockFree.map(Math.round) },
    };
    process.stdout.write(
      `audited commits/s, ${opts.writers} writers: one global lock ${result.serializedPerSecond}, ` +
        `lock-free ${result.lockFreePerSecond} (${result.ratio}x)\n`,
    );
    if (opts.json) process.stdout.write(JSON.stringify(result) + '\n');
  } finally {
    await orm.close(true);
    await db.drop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`audit-commits failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
