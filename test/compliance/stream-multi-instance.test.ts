import { credentials } from '@grpc/grpc-js';
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { AuthServiceClient } from '../../src/gen/tessera/v1/auth_service.js';
import { AuditEventType } from '../../src/gen/tessera/v1/audit_event.js';
import { harness } from '../helpers/harness.js';
import { registerUser } from '../helpers/fixtures.js';
import { beforeBuildingTessera, freePort, spawnTessera, tesseraEnv, waitForExit, waitForLine } from '../helpers/process.js';
import { call } from '../helpers/server.js';
import { openStream } from '../helpers/audit.js';

describe('ComplianceService.StreamAuditEvents: across instances', () => {
  let other: ChildProcess;
  let otherAddress: string;
  beforeBuildingTessera();

  before(async function () {
    this.timeout(30_000);
    const env = harness().server.env;
    const port = await freePort();
    // A second server process on the same database, sharing secrets and token settings.
    other = spawnTessera(
      ['start'],
      tesseraEnv(harness().db.url, {
        GRPC_PORT: String(port),
        HTTP_PORT: '0',
        TESSERA_PEPPER: env.TESSERA_PEPPER,
        TESSERA_MASTER_KEY: env.TESSERA_MASTER_KEY,
        TESSERA_ISSUER: env.TESSERA_ISSUER,
        TESSERA_AUDIENCE: env.TESSERA_AUDIENCE,
      }),
    );
    await waitForLine(other, 'tessera listening', 20_000);
    otherAddress = `127.0.0.1:${port}`;
  });

  after(async function () {
    this.timeout(20_000);
    const exited = waitForExit(other, 15_000);
    other.kill('SIGTERM');
    const result = await exited;
    expect(result.code).to.equal(0);
  });

  it('delivers an event written through one instance to a stream held on another', async () => {
    const { user, email, password } = await registerUser();
    const filter = {
      subjectUserId: user.id,
      actorId: '',
      types: [AuditEventType.AUDIT_EVENT_TYPE_LOGIN_SUCCEEDED],
      startTime: undefined,
      endTime: undefined,
    };
    const { stream, client } = await openStream({ filter }, { address: otherAddress });
    try {
      // Written through the shared instance (A), streamed from the spawned one (B).
      await call(harness().server.auth, 'login', { email, password });
      await stream.waitForCount(1, 10_000);
      expect(stream.events[0].subjectUserId).to.equal(user.id);
      expect(stream.events[0].typeName).to.equal('login.succeeded');
    } finally {
      stream.cancel();
      client.close();
    }
  });

  it('resumes on another instance from the cursor of the first, losing and repeating nothing', async () => {
    const { user, email, password } = await registerUser();
    const filter = { subjectUserId: user.id, actorId: '', types: [], startTime: undefined, endTime: undefined };
    const onA = await openStream({ afterEventId: '0', filter });
    await onA.stream.waitForCount(1); // user.registered
    onA.stream.cancel();
    onA.client.close();
    const cursor = onA.stream.events[onA.stream.events.length - 1].id;

    const auth = new AuthServiceClient(otherAddress, credentials.createInsecure());
    try {
      await call(auth, 'login', { email, password }); // written through B
      await call(harness().server.auth, 'login', { email, password }); // and through A
    } finally {
      auth.close();
    }
    const onB = await openStream({ afterEventId: cursor, filter }, { address: otherAddress });
    try {
      await onB.stream.waitForCount(2);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(onB.stream.events.map((e) => e.typeName)).to.deep.equal(['login.succeeded', 'login.succeeded']);
      expect(onB.stream.events.every((e) => BigInt(e.id) > BigInt(cursor))).to.equal(true);
    } finally {
      onB.stream.cancel();
      onB.client.close();
    }
  });
});
