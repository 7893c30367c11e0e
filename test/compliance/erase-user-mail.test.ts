import { expect } from 'chai';
import { decodeJwt } from 'jose';
import { ComplianceServiceClient } from '../../src/gen/tessera/v1/compliance_service.js';
import { credentials } from '@grpc/grpc-js';
import { adminToken, signedInUser, sqlOn } from '../helpers/fixtures.js';
import { startMailTestBed, type MailTestBed } from '../helpers/mail.js';
import { bearer, call } from '../helpers/server.js';

describe('EraseUser deletes the queued mail of the erased account', function () {
  this.timeout(60_000);
  let bed: MailTestBed;
  let compliance: ComplianceServiceClient;

  before(async () => {
    // The outbox polls hourly here: queued mail stays queued until the test delivers it (outbox.runOnce()).
    bed = await startMailTestBed({ MAIL_POLL_INTERVAL_MS: '3600000' });
    compliance = new ComplianceServiceClient(bed.server.address, credentials.createInsecure());
  });

  after(async () => {
    compliance?.close();
    await bed?.close();
  });

  const outboxOf = (userId: string) =>
    sqlOn<{ status: string }>(bed.server, 'select status from email_outbox where user_id = $1', [userId]);

  it('a queued, undelivered mail of an erased user is deleted, counted in the receipt, and never sent', async () => {
    const { server } = bed;
    const erased = await signedInUser({ server });
    const kept = await signedInUser({ server });
    for (const person of [erased, kept]) await call(server.auth, 'requestPasswordReset', { email: person.email });
    expect(await outboxOf(erased.user!.id)).to.deep.equal([{ status: 'pending' }]);

    const { receipt } = await call(
      compliance,
      'eraseUser',
      { userId: erased.user!.id, reason: 'gdpr_request', currentPassword: '' },
      bearer(await adminToken(server)),
    );

    expect(await outboxOf(erased.user!.id)).to.deep.equal([]);
    expect((decodeJwt(receipt!.jws).counts as Record<string, number>).mail).to.equal(1);
    await server.tessera.outbox.runOnce();
    // The worker did run: the other account's mail went out; the erased one's never did.
    expect(bed.smtp.to(kept.email)).to.have.length(1);
    expect(bed.smtp.to(erased.email)).to.deep.equal([]);
    expect(await outboxOf(kept.user!.id)).to.deep.equal([{ status: 'sent' }]);
  });
});
