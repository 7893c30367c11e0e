import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { harness } from '../helpers/harness.js';
import { openStream, sequenceOf, writeEvents } from '../helpers/audit.js';
import { adminToken } from '../helpers/fixtures.js';

/** Opens a live stream about `subject`, writes two events, and expects exactly those two (seq 0 and 1). */
async function expectOnlyEventsWrittenAfterOpening(subject: string, token?: string): Promise<void> {
  const { stream, client } = await openStream(
    { filter: { subjectUserId: subject, actorId: '', types: [], startTime: undefined, endTime: undefined } },
    { token },
  );
  try {
    await writeEvents(harness().server.tessera, subject, 2);
    await stream.waitForCount(2);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(sequenceOf(stream.events)).to.deep.equal([0, 1]);
  } finally {
    stream.cancel();
    client.close();
  }
}

describe('ComplianceService.StreamAuditEvents: live delivery', () => {
  it('delivers 1,000 events written by concurrent transactions exactly once and in id order', async function () {
    this.timeout(60_000);
    const subject = randomUUID();
    const { stream, client } = await openStream({
      filter: { subjectUserId: subject, actorId: '', types: [], startTime: undefined, endTime: undefined },
    });
    try {
      await writeEvents(harness().server.tessera, subject, 1000, 25);
      await stream.waitForCount(1000, 30_000);
      // Nothing more arrives: no duplicates trickling in late.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(stream.events).to.have.length(1000);
      const ids = stream.events.map((e) => BigInt(e.id));
      for (let i = 1; i < ids.length; i++) expect(ids[i] > ids[i - 1], `id ${ids[i]} after ${ids[i - 1]}`).to.equal(true);
      expect(new Set(sequenceOf(stream.events)).size).to.equal(1000);
      expect(stream.events.every((e) => e.subjectUserId === subject)).to.equal(true);
    } finally {
      stream.cancel();
      client.close();
    }
  });

  it('starts at the live edge when no cursor is given: earlier events are not replayed', async () => {
    const subject = randomUUID();
    await writeEvents(harness().server.tessera, subject, 3);
    await expectOnlyEventsWrittenAfterOpening(subject);
  });

  it('does not deliver, as live, an event committed before it opened that no notification announced yet', async () => {
    const subject = randomUUID();
    // Signing in writes and announces an audit event: let the hub read it before the silent commit.
    const token = await adminToken();
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Committed without NOTIFY, so no hub has read it: only the stream's own look at the trail can place it in the past.
    await harness()
      .server.tessera.orm.em.getConnection()
      .execute(
        `insert into audit_events (occurred_at, type, actor_type, subject_user_id, metadata)
       values (now(), 'email_verification.requested', 'system', ?, '{"seq": 99}')`,
        [subject],
      );
    await expectOnlyEventsWrittenAfterOpening(subject, token);
  });

  it('replays the whole retained trail from cursor 0 and then goes live', async () => {
    const subject = randomUUID();
    await writeEvents(harness().server.tessera, subject, 5);
    const { stream, client } = await openStream({
      afterEventId: '0',
      filter: { subjectUserId: subject, actorId: '', types: [], startTime: undefined, endTime: undefined },
    });
    try {
      await stream.waitForCount(5);
      await writeEvents(harness().server.tessera, subject, 2);
      await stream.waitForCount(7);
      expect(sequenceOf(stream.events)).to.deep.equal([0, 1, 2, 3, 4, 0, 1]);
    } finally {
      stream.cancel();
      client.close();
    }
  });
});
