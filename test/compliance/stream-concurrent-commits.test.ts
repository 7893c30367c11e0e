import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { appendAuditEvents, connectOrm, type Orm } from '../../src/db/index.js';
import type { AuditEvent } from '../../src/gen/tessera/v1/audit_event.js';
import { harness } from '../helpers/harness.js';
import { auditEventAbout, openStream, sequenceOf } from '../helpers/audit.js';

const eventAbout = (subjectUserId: string, seq: number) => auditEventAbout(subjectUserId, seq, 'race');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function expectStrictlyIncreasing(events: AuditEvent[]): void {
  const ids = events.map((e) => BigInt(e.id));
  for (let i = 1; i < ids.length; i++) expect(ids[i] > ids[i - 1], `id ${ids[i]} after ${ids[i - 1]}`).to.equal(true);
}

describe('ComplianceService.StreamAuditEvents: audited transactions committing out of id order', () => {
  // A second pool on the same database, as another instance's writers would be.
  let writers: Orm;
  before(async () => {
    writers = await connectOrm(harness().db.url, 16);
  });
  after(() => writers.close(true));

  it('delivers every committed event exactly once, in id order, to a live and a resumed stream', async function () {
    this.timeout(60_000);
    const subject = randomUUID();
    const filter = { subjectUserId: subject, actorId: '', types: [], startTime: undefined, endTime: undefined };
    const live = await openStream({ filter });
    const committed = new Set<number>();
    let resumed: Promise<Awaited<ReturnType<typeof openStream>>> | undefined;
    let resumedAfter = '0';
    try {
      let next = 0;
      const total = 400;
      // Each transaction draws its ids, then sleeps in the database before it commits (or rolls back),
      // so commits land out of id order while the hub keeps reading.
      const worker = async () => {
        while (next < total) {
          const seqs = Array.from({ length: 1 + (next % 3) }, () => next++).filter((s) => s < total);
          const em = writers.em.fork();
          await em.begin();
          try {
            await sleep(Math.random() * 5);
            await appendAuditEvents(
              em,
              seqs.map((s) => eventAbout(subject, s)),
            );
            await em.execute('select pg_sleep(?)', [Math.random() * 0.03]);
            if (seqs[0] % 10 === 7) throw new Error('roll back');
            await em.commit();
            for (const s of seqs) committed.add(s);
          } catch {
            await em.rollback();
          }
          if (!resumed && next >= total / 2) {
            // Reconnect "after the last event processed", while transactions are still in flight.
            resumedAfter = live.stream.events.at(-1)?.id ?? '0';
            resumed = openStream({ filter, afterEventId: resumedAfter });
          }
        }
      };
      await Promise.all(Array.from({ length: 16 }, worker));
      await live.stream.waitForCount(committed.size, 20_000);
      await sleep(300);

      expect(live.stream.events).to.have.length(committed.size);
      expect(new Set(sequenceOf(live.stream.events))).to.deep.equal(committed);
      expectStrictlyIncreasing(live.stream.events);

      const expected = live.stream.events.filter((e) => BigInt(e.id) > BigInt(resumedAfter));
      const { stream: again } = await resumed!;
      await again.waitForCount(expected.length, 20_000);
      await sleep(300);
      expect(again.events.map((e) => e.id)).to.deep.equal(expected.map((e) => e.id));
    } finally {
      for (const s of [live, await resumed]) {
        s?.stream.cancel();
        s?.client.close();
      }
    }
  });

  it('holds back an event committed above an id still in flight, then delivers both in id order', async () => {
    const subject = randomUUID();
    const filter = { subjectUserId: subject, actorId: '', types: [], startTime: undefined, endTime: undefined };
    const { stream, client } = await openStream({ filter });
    const early = writers.em.fork();
    const late = writers.em.fork();
    try {
      await early.begin();
      await appendAuditEvents(early, [eventAbout(subject, 1)]);
      await late.begin();
      // No global lock: the later append does not wait for the earlier transaction.
      await appendAuditEvents(late, [eventAbout(subject, 2)]);
      await late.commit();

      await sleep(400);
      expect(stream.events, 'seq 2 is held back while seq 1 (a smaller id) may still commit').to.have.length(0);

      await early.commit();
      await stream.waitForCount(2);
      await sleep(200);
      expect(sequenceOf(stream.events)).to.deep.equal([1, 2]);
      expectStrictlyIncreasing(stream.events);
    } finally {
      for (const em of [early, late]) if (em.isInTransaction()) await em.rollback();
      stream.cancel();
      client.close();
    }
  });
});
