import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { Role } from '../../src/gen/tessera/v1/user.js';
import { openStream } from '../helpers/audit.js';
import { adminToken, registerUser, serviceAccountKey, sql } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { bearer, call } from '../helpers/server.js';

/**
 * A live StreamAuditEvents of a service account re-checks the account before
 * each event: deleting it (its key revoked) or lowering its role below
 * audit:read ends the stream before the next event is delivered.
 */
describe('ComplianceService.StreamAuditEvents re-checks a service account', function () {
  this.timeout(30_000);

  async function streamAsServiceAccount(revoke: (serviceAccountId: string) => Promise<void>) {
    const service = await serviceAccountKey(Role.ROLE_AUDITOR);
    const subject = await registerUser();
    const signIn = () => call(harness().server.auth, 'login', { email: subject.email, password: subject.password });
    const filter = { subjectUserId: subject.user.id, actorId: '', types: [], startTime: undefined, endTime: undefined };
    const { stream, client } = await openStream({ filter }, { token: service.apiKey });
    try {
      await signIn();
      await stream.waitForCount(1);
      await revoke(service.id);
      await signIn();
      await stream.until(() => stream.error !== undefined || stream.events.length > 1, 10_000, 'an end or an event');
      return stream;
    } finally {
      stream.cancel();
      client.close();
    }
  }

  it('ends with UNAUTHENTICATED when the account is deleted', async () => {
    const stream = await streamAsServiceAccount(async (id) => {
      await call(harness().server.identity, 'deleteServiceAccount', { serviceAccountId: id }, bearer(await adminToken()));
    });
    expect(stream.events.map((e) => e.typeName)).to.deep.equal(['login.succeeded']);
    expect(stream.error && status[stream.error.code]).to.equal('UNAUTHENTICATED');
  });

  it('ends with PERMISSION_DENIED when its role no longer grants audit:read', async () => {
    // No RPC changes a service account's role yet; the database stands in for one.
    const stream = await streamAsServiceAccount(async (id) => {
      await sql(`update service_accounts set role = 'service' where id = $1`, [id]);
    });
    expect(stream.events.map((e) => e.typeName)).to.deep.equal(['login.succeeded']);
    expect(stream.error && status[stream.error.code]).to.equal('PERMISSION_DENIED');
  });
});
