import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { appendAuditEvents } from '../../src/db/index.js';
import { harness } from '../helpers/harness.js';
import { auditEventAbout, openStream } from '../helpers/audit.js';

const eventAbout = (subjectUserId: string, seq: number) => auditEventAbout(subjectUserId, seq, 'ordering');

async function client(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: harness().db.url });
  await c.connect();
  return c;
}

describe('ComplianceService.StreamAuditEvents: commit order', () => {
  it('control: with ids drawn from a sequence, a naive "id > cursor" reader misses a transaction that commits late', async () => {
    const subject = randomUUID();
    const [first, second, reader] = await Promise.all([client(), client(), client()]);
    try {
      const insert = `insert into audit_events (occurred_at, type, actor_type, subject_user_id, metadata)
                      values (now(), 'email_verification.requested', 'system', $1, '{}') returning id`;
      const [{ max }] = (await reader.query<{ max: string }>('select coalesce(max(id), 0)::text as max from audit_events')).rows;
      await first.query('begin');
      const early = (await first.query<{ id: string }>(insert, [subject])).rows[0].id;
      await second.query('begin');
      const late = (await second.query<{ id: string }>(insert, [subject])).rows[0].id;
      expect(BigInt(late) > BigInt(early)).to.equal(true);
      await second.query('commit');
      const seen = (
        await reader.query<{ id: string }>(
          'select id::text from audit_events where id > $1 and subject_user_id = $2 order by id',
          [max, subject],
        )
      ).rows;
      expect(seen.map((r) => r.id)).to.deep.equal([late]);
      await first.query('commit');
      const afterCursor = (
        await reader.query<{ id: string }>('select id::text from audit_events where id > $1 and subject_user_id = $2', [
          late,
          subject,
        ])
      ).rows;
      expect(afterCursor, 'the naive reader never sees the early id').to.deep.equal([]);
    } finally {
      await Promise.all([first.end(), second.end(), reader.end()]);
    }
  });

  it('loses nothing when the later transaction commits first, with a reader polling in between', async () => {
    const subject = randomUUID();
    const orm = harness().server.tessera.orm;
    const { stream, client: grpcClient } = await openStream({
      afterEventId: '0',
      filter: { subjectUserId: subject, actorId: '', types: [], startTime: undefined, endTime: undefined },
    });
    try {
      // Many small transactions racing, each appending as its last statement.
      const writers = Array.from({ length: 40 }, async (_, seq) => {
        const em = orm.em.fork();
        await em.begin();
        try {
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
          await appendAuditEvents(em, [eventAbout(subject, seq)]);
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
          await em.commit();
        } catch (err) {
          await em.rollback();
          throw err;
        }
      });
      await Promise.all(writers);
      await stream.waitForCount(40);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(stream.events).to.have.length(40);
      const seqs = new Set(stream.events.map((e) => (e.metadata as { seq: number }).seq));
      expect(seqs.size).to.equal(40);
      const ids = stream.events.map((e) => BigInt(e.id));
      expect([...ids].sort((a, b) => (a < b ? -1 : 1))).to.deep.equal(ids);
    } finally {
      stream.cancel();
      grpcClient.close();
    }
  });
});
