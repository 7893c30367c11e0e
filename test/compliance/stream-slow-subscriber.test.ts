import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { startSiblingServer, type TestServer } from '../helpers/server.js';
import { openStream, sequenceOf, writeEvents } from '../helpers/audit.js';

const BOUND = 20;

describe('ComplianceService.StreamAuditEvents: a slow subscriber', () => {
  let server: TestServer;

  before(async () => {
    server = await startSiblingServer({
      AUDIT_STREAM_MAX_BUFFERED: String(BOUND),
    });
  });

  after(() => server.close());

  it('stays within its buffer bound, does not hold back others, and still receives everything in order', async function () {
    this.timeout(60_000);
    const subject = randomUUID();
    const filter = { subjectUserId: subject, actorId: '', types: [], startTime: undefined, endTime: undefined };
    const slow = await openStream({ filter }, { address: server.address });
    const fast = await openStream({ filter }, { address: server.address });
    slow.stream.call.pause();
    try {
      const total = 800;
      await writeEvents(server.tessera, subject, total, 8);
      await fast.stream.waitForCount(total, 30_000);

      const stats = server.tessera.auditStream.stats();
      expect(stats.maxQueued, 'queued events per subscriber').to.be.at.most(BOUND);
      expect(stats.overflows, 'the slow subscriber fell back to the table').to.be.at.least(1);
      expect(slow.stream.events.length).to.be.below(total);

      slow.stream.call.resume();
      await slow.stream.waitForCount(total, 30_000);
      await new Promise((resolve) => setTimeout(resolve, 200));
      for (const { stream } of [slow, fast]) {
        expect(stream.events).to.have.length(total);
        const seqs = sequenceOf(stream.events);
        expect(new Set(seqs).size).to.equal(total);
        const ids = stream.events.map((e) => BigInt(e.id));
        for (let i = 1; i < ids.length; i++) expect(ids[i] > ids[i - 1]).to.equal(true);
      }
    } finally {
      for (const { stream, client } of [slow, fast]) {
        stream.cancel();
        client.close();
      }
    }
  });
});
