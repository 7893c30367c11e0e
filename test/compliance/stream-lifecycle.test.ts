import { Metadata, status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { decodeDetails } from '../helpers/rpc-errors.js';
import { harness } from '../helpers/harness.js';
import { signedInUser, sql } from '../helpers/fixtures.js';
import { startTestServer } from '../helpers/server.js';
import { CollectedStream, complianceClient, openStream, writeEvents } from '../helpers/audit.js';
import { bearer } from '../helpers/server.js';

const bySubject = (subjectUserId: string) => ({
  subjectUserId,
  actorId: '',
  types: [],
  startTime: undefined,
  endTime: undefined,
});

async function waitUntil(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('ComplianceService.StreamAuditEvents: access and lifecycle', () => {
  it('refuses a caller without a token (UNAUTHENTICATED)', async () => {
    const client = complianceClient();
    const stream = new CollectedStream(client, { afterEventId: undefined, filter: undefined }, new Metadata());
    const err = await stream.waitForError();
    client.close();
    expect(err.code).to.equal(status.UNAUTHENTICATED);
  });

  it('refuses a normal user (PERMISSION_DENIED)', async () => {
    const user = await signedInUser();
    const client = complianceClient();
    const stream = new CollectedStream(client, { afterEventId: '0', filter: undefined }, bearer(user.accessToken));
    const err = await stream.waitForError();
    client.close();
    expect(err.code).to.equal(status.PERMISSION_DENIED);
    expect(decodeDetails(err).errorInfo?.reason).to.equal('PERMISSION_DENIED');
  });

  it('lets an auditor stream', async () => {
    const auditor = await signedInUser();
    await sql("update users set role = 'auditor' where id = $1", [auditor.user!.id]);
    const subject = randomUUID();
    const { stream, client } = await openStream({ filter: bySubject(subject) }, { token: auditor.accessToken });
    try {
      await writeEvents(harness().server.tessera, subject, 1);
      await stream.waitForCount(1);
    } finally {
      stream.cancel();
      client.close();
    }
  });

  it('refuses a negative cursor and a malformed filter with INVALID_ARGUMENT naming the field', async () => {
    for (const [request, field] of [
      [{ afterEventId: '-1', filter: undefined }, 'after_event_id'],
      [{ afterEventId: undefined, filter: { ...bySubject('not-a-uuid') } }, 'filter.subject_user_id'],
    ] as const) {
      const { stream, client } = await openStream(request);
      const err = await stream.waitForError();
      client.close();
      expect(err.code).to.equal(status.INVALID_ARGUMENT);
      expect(decodeDetails(err).badRequest?.fieldViolations.map((v) => v.field)).to.deep.equal([field]);
    }
  });

  it('releases its subscription when the client cancels', async () => {
    const hub = harness().server.tessera.auditStream;
    const before = hub.stats().subscribers;
    const { stream, client } = await openStream({ filter: bySubject(randomUUID()) });
    await waitUntil(() => hub.stats().subscribers === before + 1);
    stream.cancel();
    client.close();
    await waitUntil(() => hub.stats().subscribers === before);
  });

  it('ends with DEADLINE_EXCEEDED at its deadline and releases its subscription', async () => {
    const hub = harness().server.tessera.auditStream;
    const before = hub.stats().subscribers;
    const { stream, client } = await openStream({ filter: bySubject(randomUUID()) }, { deadline: new Date(Date.now() + 700) });
    const err = await stream.waitForError(5000);
    client.close();
    expect(err.code).to.equal(status.DEADLINE_EXCEEDED);
    await waitUntil(() => hub.stats().subscribers === before);
  });

  it('ends open streams with UNAVAILABLE on shutdown, so clients reconnect elsewhere', async function () {
    this.timeout(20_000);
    const env = harness().server.env;
    const server = await startTestServer(harness().db, {
      TESSERA_PEPPER: env.TESSERA_PEPPER,
      TESSERA_MASTER_KEY: env.TESSERA_MASTER_KEY,
      SHUTDOWN_GRACE_SECONDS: '10',
    });
    const { stream, client } = await openStream(
      { afterEventId: '0', filter: bySubject(randomUUID()) },
      { address: server.address },
    );
    const started = Date.now();
    await server.close();
    const err = await stream.waitForError(5000);
    client.close();
    expect(err.code).to.equal(status.UNAVAILABLE);
    expect(decodeDetails(err).errorInfo?.reason).to.equal('SHUTTING_DOWN');
    expect(Date.now() - started, 'shutdown does not wait out the grace period for streams').to.be.below(5000);
    expect(server.tessera.auditStream.stats().subscribers).to.equal(0);
  });
});
