// Part of `npm run bench`: how many audited transactions commit per second
// (they serialize on the audit append lock) and how long an event takes from
// commit to a live stream. Bounded in time; loopback only.
import { Metadata } from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import { systemOperation } from '../src/domain/kernel/operation.js';
import { inTransaction } from '../src/domain/kernel/unit-of-work.js';
import { runBench } from './bench-server.js';
import { BOOTSTRAP_ADMIN, call } from '../test/helpers/server.js';
import { CollectedStream, complianceClient } from '../test/helpers/audit.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);

runBench('audit stream bench', async (server) => {
  const client = complianceClient(server.address);
  try {
    const login = await call(server.auth, 'login', BOOTSTRAP_ADMIN);
    const md = new Metadata();
    md.set('authorization', `Bearer ${login.tokens!.accessToken}`);
    const subject = randomUUID();
    const stream = new CollectedStream(
      client,
      {
        afterEventId: undefined,
        filter: { subjectUserId: subject, actorId: '', types: [], startTime: undefined, endTime: undefined },
      },
      md,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));

    for (const concurrency of [1, 8, 32]) {
      const committedAt = new Map<number, number>();
      let seq = 0;
      const deadline = Date.now() + SECONDS * 1000;
      const startCount = stream.events.length;
      const worker = async () => {
        while (Date.now() < deadline) {
          const n = seq++;
          await inTransaction(systemOperation(server.tessera.deps, server.tessera.orm.em.fork(), 'bench'), async (uow) => {
            uow.record({ type: 'email_verification.requested', subjectUserId: subject, metadata: { n, concurrency } });
          });
          committedAt.set(n, performance.now());
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
      await stream.waitForCount(startCount + seq, 30_000);
      const arrivals = stream.events.slice(startCount);
      process.stdout.write(
        `audited transactions, ${String(concurrency).padStart(2)} writers: ${(seq / SECONDS).toFixed(0).padStart(5)} commits/s; ` +
          `all ${arrivals.length} delivered in order: ${arrivals.every((e, i) => i === 0 || BigInt(e.id) > BigInt(arrivals[i - 1].id))}\n`,
      );
    }

    // Commit-to-stream latency, one event at a time.
    const latencies: number[] = [];
    for (let i = 0; i < 50; i++) {
      const before = stream.events.length;
      const t0 = performance.now();
      await inTransaction(systemOperation(server.tessera.deps, server.tessera.orm.em.fork(), 'bench'), async (uow) => {
        uow.record({ type: 'email_verification.requested', subjectUserId: subject, metadata: { latency: i } });
      });
      await stream.waitForCount(before + 1);
      latencies.push(performance.now() - t0);
    }
    latencies.sort((a, b) => a - b);
    process.stdout.write(
      `commit -> live stream latency: p50 ${latencies[25].toFixed(1)} ms, p95 ${latencies[47].toFixed(1)} ms (includes the commit)\n`,
    );
    stream.cancel();
  } finally {
    client.close();
  }
});
