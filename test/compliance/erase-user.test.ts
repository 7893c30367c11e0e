import { Metadata, status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { ListAuditEventsRequest } from '../../src/gen/tessera/v1/compliance_service.js';
import { Profile } from '../../src/gen/tessera/v1/profile.js';
import { Role } from '../../src/gen/tessera/v1/user.js';
import { complianceClient } from '../helpers/audit.js';
import { randomBytes } from 'node:crypto';
import {
  adminToken,
  DEFAULT_PASSWORD,
  keySql,
  openedAuditRows,
  serviceAccountKey,
  signedInUser,
  sql,
  uniqueEmail,
} from '../helpers/fixtures.js';
import { findEverywhere } from '../helpers/database-sweep.js';
import { emailIndexOf } from '../helpers/email-index.js';
import { harness } from '../helpers/harness.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, call } from '../helpers/server.js';

/** Personal values a sweep of the database must not find after the erasure. */
const PERSON = {
  name: 'Zebulon Quibbleworth',
  phone: '+351912000111',
  location: 'Quibbletown',
  ip: '203.0.113.99',
  userAgent: 'EraseMeAgent/7.1',
};

/** A user registered and signed in through a service account vouching for a known client address and agent. */
async function personWithData() {
  const service = await serviceAccountKey(Role.ROLE_SERVICE);
  const md = () => {
    const m = new Metadata();
    m.set('authorization', `Bearer ${service.apiKey}`);
    m.set('x-forwarded-for', PERSON.ip);
    m.set('x-forwarded-user-agent', PERSON.userAgent);
    return m;
  };
  const email = uniqueEmail('erase');
  const server = harness().server;
  const { user } = await call(server.auth, 'register', { email, password: DEFAULT_PASSWORD, fullName: PERSON.name }, md());
  const login = await call(server.auth, 'login', { email, password: DEFAULT_PASSWORD }, md());
  await call(
    server.profile,
    'updateProfile',
    {
      profile: Profile.fromPartial({ phoneNumber: PERSON.phone, location: PERSON.location }),
      updateMask: ['phone_number', 'location'],
    },
    bearer(login.tokens!.accessToken),
  );
  return { userId: user!.id, email, accessToken: login.tokens!.accessToken };
}

async function auditCount(userId: string): Promise<number> {
  const [row] = await sql<{ n: string }>('select count(*)::text as n from audit_events where subject_user_id = $1', [userId]);
  return Number(row.n);
}

describe('ComplianceService.EraseUser', function () {
  this.timeout(120_000);

  it('erases an account: nothing personal anywhere, tokens dead, trail kept, address free, receipt verifiable', async () => {
    const person = await personWithData();
    const before = await auditCount(person.userId);
    expect(before).to.be.greaterThan(2);
    expect(await findEverywhere(PERSON.ip), 'sealed before the erasure too').to.deep.equal([]);
    expect(await findEverywhere(person.email), 'the address is sealed before the erasure too').to.deep.equal([]);
    expect(await findEverywhere(emailIndexOf(person.email)), 'only as the blind index').to.deep.equal(['users.email_index']);
    const admin = await adminToken();
    const client = complianceClient();

    const { receipt } = await call(
      client,
      'eraseUser',
      { userId: person.userId, reason: 'gdpr_art17_request', currentPassword: '' },
      bearer(admin),
    );

    // Neither the address nor its blind index remains: the tombstone holds nothing that names the person.
    const emailIndex = emailIndexOf(person.email);
    for (const value of [
      person.email,
      emailIndex,
      PERSON.name,
      PERSON.phone.slice(4),
      PERSON.location,
      PERSON.ip,
      PERSON.userAgent,
    ]) {
      expect(await findEverywhere(value), value).to.deep.equal([]);
    }
    expect(await keySql('select 1 from data_keys where user_id = $1', [person.userId])).to.have.length(0);
    // The trail keeps every event (ids, types, times) plus user.erased, with nothing personal readable.
    expect(await auditCount(person.userId)).to.equal(before + 1);
    const events = await call(
      client,
      'listAuditEvents',
      ListAuditEventsRequest.fromPartial({ filter: { subjectUserId: person.userId }, pageSize: 100 }),
      bearer(admin),
    );
    expect(events.events.map((e) => e.typeName)).to.include('user.erased');
    expect(events.events.every((e) => e.ip === '' && e.userAgent === '')).to.equal(true);
    // Access tokens stop at once.
    await expectRpcError(
      call(harness().server.profile, 'getProfile', { userId: '' }, bearer(person.accessToken)),
      status.UNAUTHENTICATED,
    );
    // The address registers again, as a new account.
    const again = await call(harness().server.auth, 'register', {
      email: person.email,
      password: DEFAULT_PASSWORD,
      fullName: '',
    });
    expect(again.user!.id).to.not.equal(person.userId);

    // The receipt: a JWS verifiable with the published JWKS, naming ids and counts only.
    const { keys } = await call(harness().server.auth, 'getJwks', {});
    const { payload, protectedHeader } = await jwtVerify(receipt!.jws, createLocalJWKSet({ keys: keys as never }), {
      issuer: 'urn:tessera:test',
      typ: 'erasure-receipt+jwt',
    });
    expect(protectedHeader.alg).to.equal('EdDSA');
    expect(payload).to.include({ erased_user_id: person.userId, reason: 'gdpr_art17_request' });
    expect(payload.counts).to.include({ profiles: 1, sessions: 1, data_keys: 1, accounts: 1, audit_events_shredded: before });
    const text = JSON.stringify(payload);
    for (const value of [person.email, PERSON.name, PERSON.ip, PERSON.userAgent]) expect(text).to.not.include(value);
    expect(receipt!.userId).to.equal(person.userId);

    // The data-protection officer gets the same receipt later.
    const later = await call(client, 'getErasureReceipt', { userId: person.userId }, bearer(admin));
    expect(later.receipt!.jws).to.equal(receipt!.jws);
    client.close();
  });

  it('lets a person erase their own account with their current password, and refuses a wrong one', async () => {
    const user = await signedInUser({ fullName: 'Self Eraser' });
    const client = complianceClient();

    await expectRpcError(
      call(
        client,
        'eraseUser',
        { userId: user.user!.id, reason: 'user_request', currentPassword: 'not the password' },
        bearer(user.accessToken),
      ),
      status.INVALID_ARGUMENT,
      { reason: 'INVALID_CREDENTIALS', fields: ['current_password'] },
    );
    const { receipt } = await call(
      client,
      'eraseUser',
      { userId: user.user!.id, reason: 'user_request', currentPassword: user.password },
      bearer(user.accessToken),
    );
    expect(receipt!.userId).to.equal(user.user!.id);
    expect(await sql('select 1 from users where id = $1', [user.user!.id])).to.have.length(0);
    client.close();
  });

  it("refuses one user erasing another's account, or reading a receipt", async () => {
    const [attacker, victim] = [await signedInUser(), await signedInUser()];
    const client = complianceClient();

    await expectRpcError(
      call(
        client,
        'eraseUser',
        { userId: victim.user!.id, reason: 'spite', currentPassword: attacker.password },
        bearer(attacker.accessToken),
      ),
      status.PERMISSION_DENIED,
    );
    await expectRpcError(
      call(client, 'getErasureReceipt', { userId: victim.user!.id }, bearer(attacker.accessToken)),
      status.PERMISSION_DENIED,
    );
    expect(await sql('select 1 from users where id = $1', [victim.user!.id])).to.have.length(1);
    client.close();
  });

  it("shreds the free-text reason of the person's suspension: stored sealed, in the trail until the erasure, then gone", async () => {
    const target = await signedInUser();
    const admin = await adminToken();
    // Administrators write about the person here: complaints, names, numbers.
    const reason = `complaint by Quentin Marblethwaite ${randomBytes(4).toString('hex')}, +351912000222`;
    await call(harness().server.identity, 'suspendUser', { userId: target.user!.id, reason }, bearer(admin));
    const suspension = () => openedAuditRows(`type = 'user.suspended' and subject_user_id = $1`, [target.user!.id]);

    expect(await findEverywhere(reason), 'the reason in clear, anywhere').to.deep.equal([]);
    expect((await suspension())[0]!.metadata).to.deep.equal({ reason });
    // As versions before the sealing stored one: in clear.
    const legacyReason = `legacy complaint ${randomBytes(4).toString('hex')}`;
    await sql(
      `insert into audit_events (occurred_at, type, actor_type, subject_user_id, metadata) values (now(), 'user.suspended', 'system', $1, $2)`,
      [target.user!.id, { reason: legacyReason }],
    );

    await call(
      complianceClient(),
      'eraseUser',
      { userId: target.user!.id, reason: 'gdpr_art17_request', currentPassword: '' },
      bearer(admin),
    );

    const events = await suspension();
    expect(events, 'the events stay').to.have.length(2);
    for (const event of events) expect(event.metadata).to.not.have.property('reason');
    expect(await findEverywhere(reason)).to.deep.equal([]);
    expect(await findEverywhere(legacyReason)).to.deep.equal([]);
  });

  it('names the field of a reason that is free text rather than a code', async () => {
    const user = await signedInUser();
    await expectRpcError(
      call(
        complianceClient(),
        'eraseUser',
        { userId: user.user!.id, reason: 'asked by jane@example.com', currentPassword: '' },
        bearer(await adminToken()),
      ),
      status.INVALID_ARGUMENT,
      { fields: ['reason'] },
    );
  });
});
