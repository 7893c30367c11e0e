import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { harness } from '../helpers/harness.js';
import { openStream, sequenceOf, writeEvents } from '../helpers/audit.js';

const bySubject = (subjectUserId: string) => ({
  subjectUserId,
  actorId: '',
  types: [],
  startTime: undefined,
  endTime: undefined,
});

describe('ComplianceService.StreamAuditEvents: resuming', () => {
  it('a client that reconnects with its last id gets exactly what it missed', async () => {
    const subject = randomUUID();
    const tessera = harness().server.tessera;
    await writeEvents(tessera, subject, 10);

    const first = await openStream({ afterEventId: '0', filter: bySubject(subject) });
    await first.stream.waitForCount(4);
    first.stream.cancel();
    first.client.close();
    // Whatever arrived before the cancel took effect counts as processed.
    const processed = first.stream.events;
    const cursor = processed[processed.length - 1].id;

    await writeEvents(tessera, subject, 5);
    const second = await openStream({ afterEventId: cursor, filter: bySubject(subject) });
    try {
      const expected = 15 - processed.length;
      await second.stream.waitForCount(expected);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(second.stream.events).to.have.length(expected);
      const all = [...processed, ...second.stream.events];
      expect(sequenceOf(all)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4]);
      expect(new Set(all.map((e) => e.id)).size).to.equal(15);
    } finally {
      second.stream.cancel();
      second.client.close();
    }
  });

  it('filtered-out events still advance the cursor: resuming after the last delivered id skips nothing', async () => {
    const subject = randomUUID();
    const other = randomUUID();
    const tessera = harness().server.tessera;
    await writeEvents(tessera, subject, 2);
    await writeEvents(tessera, other, 3);
    await writeEvents(tessera, subject, 2);
    const { stream, client } = await openStream({ afterEventId: '0', filter: bySubject(subject) });
    try {
      await stream.waitForCount(4);
      expect(stream.events.every((e) => e.subjectUserId === subject)).to.equal(true);
      expect(sequenceOf(stream.events)).to.deep.equal([0, 1, 0, 1]);
    } finally {
      stream.cancel();
      client.close();
    }
  });

  it('a cursor ahead of everything written waits for new events', async () => {
    const subject = randomUUID();
    const tessera = harness().server.tessera;
    const { stream, client } = await openStream({ afterEventId: '9223372036854775000', filter: bySubject(subject) });
    try {
      await writeEvents(tessera, subject, 1);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(stream.events).to.have.length(0);
      expect(stream.error).to.equal(undefined);
    } finally {
      stream.cancel();
      client.close();
    }
  });
});
