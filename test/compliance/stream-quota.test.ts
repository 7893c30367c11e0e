import { credentials, status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { ComplianceServiceClient } from '../../src/gen/tessera/v1/compliance_service.js';
import { CollectedStream, writeEvents } from '../helpers/audit.js';
import { adminToken, signedInWithRole } from '../helpers/fixtures.js';
import { decodeDetails } from '../helpers/rpc-errors.js';
import { bearer, call, startSiblingServer, type TestServer } from '../helpers/server.js';

const CAP = 300;

describe('ComplianceService.StreamAuditEvents: live streams per principal', () => {
  let server: TestServer;
  let client: ComplianceServiceClient;
  const opened: CollectedStream[] = [];
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);

  before(async () => {
    // The default cap (AUDIT_STREAMS_PER_PRINCIPAL=300), on an instance of its own.
    server = await startSiblingServer();
    client = new ComplianceServiceClient(server.address, credentials.createInsecure());
    process.on('warning', onWarning);
  });
  after(async () => {
    process.off('warning', onWarning);
    for (const s of opened) s.cancel();
    client?.close();
    await server?.close();
  });

  const open = (token: string, c = client) => {
    const stream = new CollectedStream(c, { afterEventId: undefined, filter: undefined }, bearer(token));
    opened.push(stream);
    return stream;
  };
  /** Waits until the instance holds exactly `n` live subscriptions. */
  async function subscribers(n: number): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (server.tessera.auditStream.stats().subscribers !== n) {
      if (Date.now() > deadline) throw new Error(`${server.tessera.auditStream.stats().subscribers} streams open, not ${n}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Median latency of `n` GetJwks calls, in ms. */
  async function jwksMedian(n = 30): Promise<number> {
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const started = process.hrtime.bigint();
      await call(server.auth, 'getJwks', {});
      times.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    return times.sort((a, b) => a - b)[Math.floor(n / 2)];
  }

  it(`refuses the ${CAP + 1}st stream of one principal on one connection, and nothing else slows`, async function () {
    this.timeout(60_000);
    const before = await jwksMedian();
    const admin = await adminToken(server);
    const streams = Array.from({ length: CAP }, () => open(admin));
    // The 301st must come after the 300 hold their slots (they authenticate concurrently).
    await subscribers(CAP);
    expect(streams.filter((s) => s.error).map((s) => s.error!.message)).to.deep.equal([]);

    const refused = open(admin);
    const err = await refused.waitForError();
    expect(err.code).to.equal(status.RESOURCE_EXHAUSTED);
    expect(decodeDetails(err).errorInfo?.reason).to.equal('TOO_MANY_STREAMS');

    // Another principal still streams, and the open streams still deliver.
    const auditor = await signedInWithRole('auditor', { server });
    const other = open(auditor.accessToken);
    await subscribers(CAP + 1);
    await writeEvents(server.tessera, auditor.user!.id, 1);
    await other.until(() => other.events.some((e) => e.subjectUserId === auditor.user!.id), 10_000, 'the other principal');
    for (const s of [streams[0], streams[CAP - 1]]) {
      await s.until(() => s.events.some((e) => e.subjectUserId === auditor.user!.id), 10_000, 'an open stream');
    }

    const during = await jwksMedian();
    expect(during, `GetJwks median ${before.toFixed(2)} ms before, ${during.toFixed(2)} ms with ${CAP} streams`).to.be.below(
      Math.max(before * 3, 20),
    );
    const leaks = warnings.filter((w) => w.name === 'MaxListenersExceededWarning');
    expect(leaks.map((w) => w.message)).to.deep.equal([]);
  });

  it('gives the slot back when a stream ends', async () => {
    const admin = await adminToken(server);
    opened[0]!.cancel();
    await subscribers(CAP);
    const again = open(admin);
    await subscribers(CAP + 1);
    expect(again.error).to.equal(undefined);
    const full = open(admin);
    expect((await full.waitForError()).code).to.equal(status.RESOURCE_EXHAUSTED);
  });
});
