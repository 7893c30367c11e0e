import { Metadata, status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { decodeJwt } from 'jose';
import { randomUUID } from 'node:crypto';
import { AuditEventType as DomainType } from '../../src/domain/kernel/audit-record.js';
import { auditFilterKey } from '../../src/domain/compliance/audit-filter.js';
import { encodeOpaquePageToken, queryFingerprint } from '../../src/domain/kernel/page-token.js';
import { inTransaction } from '../../src/domain/kernel/unit-of-work.js';
import { ActorType, AuditEventType, type AuditEvent } from '../../src/gen/tessera/v1/audit_event.js';
import {
  AuditEventOrder,
  ListAuditEventsRequest,
  type AuditEventFilter,
  type ComplianceServiceClient,
  type ListAuditEventsResponse,
} from '../../src/gen/tessera/v1/compliance_service.js';
import { Profile } from '../../src/gen/tessera/v1/profile.js';
import { complianceClient, testOperation, writeEvents } from '../helpers/audit.js';
import { adminToken, DEFAULT_PASSWORD, registerUser, signedInUser, sql, uniqueEmail } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, call } from '../helpers/server.js';

type ListRequest = Parameters<typeof ListAuditEventsRequest.fromPartial>[0];

const OLDEST = AuditEventOrder.AUDIT_EVENT_ORDER_OLDEST_FIRST;
const NEWEST = AuditEventOrder.AUDIT_EVENT_ORDER_NEWEST_FIRST;

let client: ComplianceServiceClient;
let admin: string;

function list(token: string, request: ListRequest, metadata: Metadata = bearer(token)): Promise<ListAuditEventsResponse> {
  return call(client, 'listAuditEvents', ListAuditEventsRequest.fromPartial(request), metadata);
}

/** Every event matching `filter`, walking all pages. */
async function listAll(filter: Partial<AuditEventFilter>, order = OLDEST, pageSize = 1000): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  let pageToken = '';
  for (let pages = 0; pages < 1000; pages++) {
    const res = await list(admin, { filter, order, pageSize, pageToken });
    events.push(...res.events);
    if (!res.nextPageToken) return events;
    pageToken = res.nextPageToken;
  }
  throw new Error('paging did not end');
}

/** Walks all pages with `pageSize`, calling `between` after each page but the last. */
async function walk(
  filter: Partial<AuditEventFilter>,
  order: AuditEventOrder,
  pageSize: number,
  between: (page: number) => Promise<void> = async () => {},
): Promise<{ ids: string[]; pageSizes: number[] }> {
  const ids: string[] = [];
  const pageSizes: number[] = [];
  let pageToken = '';
  for (let page = 0; page < 100; page++) {
    const res = await list(admin, { filter, order, pageSize, pageToken });
    ids.push(...res.events.map((e) => e.id));
    pageSizes.push(res.events.length);
    if (!res.nextPageToken) return { ids, pageSizes };
    pageToken = res.nextPageToken;
    await between(page);
  }
  throw new Error('paging did not end');
}

const tessera = () => harness().server.tessera;

/** A registered, signed-in user who then changed their profile: user.registered, login.succeeded, profile.updated. */
async function activeUser() {
  const user = await signedInUser({ fullName: 'Audited User' });
  await call(
    harness().server.profile,
    'updateProfile',
    { profile: Profile.fromPartial({ bio: 'audited bio', location: 'Lisbon' }), updateMask: ['bio', 'location'] },
    bearer(user.accessToken),
  );
  return { ...user, id: user.user!.id };
}

/** A user whose role is `role`, signed in. */
async function userWithRole(role: 'auditor' | 'user') {
  const user = await signedInUser();
  if (role !== 'user') await sql('update users set role = $2 where id = $1', [user.user!.id, role]);
  return user;
}

/** Writes `count` events about `subjectUserId` in one transaction (fast, for big pages). */
async function writeManyEvents(subjectUserId: string, count: number): Promise<void> {
  await inTransaction(testOperation(tessera(), `bulk-${randomUUID()}`), async (uow) => {
    for (let seq = 0; seq < count; seq++) {
      uow.record({ type: DomainType.emailVerificationRequested, subjectUserId, metadata: { seq } });
    }
  });
}

const byId = (a: string, b: string) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);

describe('ComplianceService.ListAuditEvents', () => {
  before(async () => {
    client = complianceClient();
    admin = await adminToken();
  });

  after(() => client.close());

  describe('access', () => {
    it('refuses a normal user with PERMISSION_DENIED', async () => {
      const user = await userWithRole('user');
      await expectRpcError(list(user.accessToken, {}), status.PERMISSION_DENIED, { reason: 'PERMISSION_DENIED' });
    });

    it('refuses a call without a token with UNAUTHENTICATED', async () => {
      await expectRpcError(list('', {}, new Metadata()), status.UNAUTHENTICATED);
    });

    it('refuses a malformed token with UNAUTHENTICATED', async () => {
      await expectRpcError(list('not-a-jwt', {}), status.UNAUTHENTICATED);
    });

    it('lets an administrator list', async () => {
      const res = await list(admin, { pageSize: 5 });
      expect(res.events.length).to.be.within(1, 5);
    });

    it('lets an auditor list', async () => {
      const target = await activeUser();
      const auditor = await userWithRole('auditor');
      const res = await list(auditor.accessToken, { filter: { subjectUserId: target.id } });
      expect(res.events.map((e) => e.typeName)).to.deep.equal(['user.registered', 'login.succeeded', 'profile.updated']);
    });

    it('reads the role per call: an auditor demoted to user is refused at once', async () => {
      const auditor = await userWithRole('auditor');
      await list(auditor.accessToken, { pageSize: 1 });
      await sql("update users set role = 'user' where id = $1", [auditor.user!.id]);
      await expectRpcError(list(auditor.accessToken, { pageSize: 1 }), status.PERMISSION_DENIED);
    });
  });

  describe('filters', () => {
    it('by subject_user_id returns only that user’s events, in order', async () => {
      const user = await activeUser();
      await activeUser(); // someone else, at the same time

      const res = await list(admin, { filter: { subjectUserId: user.id } });

      expect(res.events.map((e) => e.typeName)).to.deep.equal(['user.registered', 'login.succeeded', 'profile.updated']);
      expect(res.events.map((e) => e.type)).to.deep.equal([
        AuditEventType.AUDIT_EVENT_TYPE_USER_REGISTERED,
        AuditEventType.AUDIT_EVENT_TYPE_LOGIN_SUCCEEDED,
        AuditEventType.AUDIT_EVENT_TYPE_PROFILE_UPDATED,
      ]);
      expect(res.events.every((e) => e.subjectUserId === user.id)).to.equal(true);
      expect(res.nextPageToken).to.equal('');
    });

    it('accepts the subject id in upper case', async () => {
      const user = await activeUser();
      const res = await list(admin, { filter: { subjectUserId: user.id.toUpperCase() } });
      expect(res.events).to.have.length(3);
    });

    it('returns nothing for a subject without events', async () => {
      const res = await list(admin, { filter: { subjectUserId: randomUUID() } });
      expect(res).to.deep.equal({ events: [], nextPageToken: '' });
    });

    it('by types (any of them)', async () => {
      const user = await activeUser();
      await expectRpcError(
        call(harness().server.auth, 'login', { email: user.email, password: 'a wrong passphrase' }),
        status.UNAUTHENTICATED,
      );

      const failed = await list(admin, {
        filter: { subjectUserId: user.id, types: [AuditEventType.AUDIT_EVENT_TYPE_LOGIN_FAILED] },
      });
      expect(failed.events.map((e) => e.typeName)).to.deep.equal(['login.failed']);

      const logins = await list(admin, {
        filter: {
          subjectUserId: user.id,
          types: [AuditEventType.AUDIT_EVENT_TYPE_LOGIN_FAILED, AuditEventType.AUDIT_EVENT_TYPE_LOGIN_SUCCEEDED],
        },
      });
      expect(logins.events.map((e) => e.typeName)).to.deep.equal(['login.succeeded', 'login.failed']);

      // Across all subjects, only the asked-for type comes back.
      const anyone = await list(admin, { filter: { types: [AuditEventType.AUDIT_EVENT_TYPE_PROFILE_UPDATED] }, pageSize: 50 });
      expect(anyone.events.length).to.be.greaterThan(0);
      expect(anyone.events.every((e) => e.typeName === 'profile.updated')).to.equal(true);
    });

    it('by actor_id: events caused by that user, not those merely about them', async () => {
      const user = await activeUser();
      // A failed sign-in concerns the user but is caused by an anonymous caller.
      await expectRpcError(
        call(harness().server.auth, 'login', { email: user.email, password: 'a wrong passphrase' }),
        status.UNAUTHENTICATED,
      );

      const caused = await list(admin, { filter: { actorId: user.id } });
      expect(caused.events.map((e) => e.typeName)).to.deep.equal(['user.registered', 'login.succeeded', 'profile.updated']);
      expect(caused.events.every((e) => e.actor!.id === user.id)).to.equal(true);

      const about = await list(admin, { filter: { subjectUserId: user.id } });
      expect(about.events.map((e) => e.typeName)).to.deep.equal([
        'user.registered',
        'login.succeeded',
        'profile.updated',
        'login.failed',
      ]);
    });

    it('combines conditions with AND', async () => {
      const user = await activeUser();
      const other = await activeUser();
      const res = await list(admin, {
        filter: { subjectUserId: user.id, actorId: other.id, types: [] },
      });
      expect(res.events).to.deep.equal([]);
      const res2 = await list(admin, {
        filter: { subjectUserId: user.id, actorId: user.id, types: [AuditEventType.AUDIT_EVENT_TYPE_PROFILE_UPDATED] },
      });
      expect(res2.events.map((e) => e.typeName)).to.deep.equal(['profile.updated']);
    });

    it('by time range: start_time inclusive, end_time exclusive', async () => {
      const user = await activeUser();
      const events = (await list(admin, { filter: { subjectUserId: user.id } })).events;
      const [registered, login, profile] = events.map((e) => e.occurredAt!);
      expect(registered.getTime()).to.be.lessThan(login.getTime());
      expect(login.getTime()).to.be.lessThan(profile.getTime());

      const from = async (startTime?: Date, endTime?: Date) =>
        (await list(admin, { filter: { subjectUserId: user.id, startTime, endTime } })).events.map((e) => e.typeName);

      expect(await from(login)).to.deep.equal(['login.succeeded', 'profile.updated']);
      expect(await from(undefined, login)).to.deep.equal(['user.registered']);
      expect(await from(login, profile)).to.deep.equal(['login.succeeded']);
      expect(await from(registered, new Date(profile.getTime() + 1))).to.have.length(3);
      expect(await from(new Date(profile.getTime() + 1))).to.deep.equal([]);
    });
  });

  describe('order', () => {
    it('is oldest first by default and newest first on request', async () => {
      const user = await activeUser();
      const unspecified = await list(admin, { filter: { subjectUserId: user.id } });
      const oldest = await list(admin, { filter: { subjectUserId: user.id }, order: OLDEST });
      const newest = await list(admin, { filter: { subjectUserId: user.id }, order: NEWEST });

      expect(oldest.events.map((e) => e.typeName)).to.deep.equal(['user.registered', 'login.succeeded', 'profile.updated']);
      expect(unspecified.events.map((e) => e.id)).to.deep.equal(oldest.events.map((e) => e.id));
      expect(newest.events.map((e) => e.id)).to.deep.equal(oldest.events.map((e) => e.id).reverse());
      const ids = oldest.events.map((e) => e.id);
      expect([...ids].sort(byId)).to.deep.equal(ids);
    });
  });

  describe('paging', () => {
    it('walks every event exactly once, oldest first, with page_size 2', async () => {
      const subject = randomUUID();
      await writeEvents(tessera(), subject, 5);
      const all = (await listAll({ subjectUserId: subject })).map((e) => e.id);
      expect(all).to.have.length(5);

      const walked = await walk({ subjectUserId: subject }, OLDEST, 2);

      expect(walked.ids).to.deep.equal(all);
      expect(walked.pageSizes).to.deep.equal([2, 2, 1]);
    });

    it('walks every event exactly once, newest first, with page_size 2', async () => {
      const subject = randomUUID();
      await writeEvents(tessera(), subject, 5);
      const all = (await listAll({ subjectUserId: subject })).map((e) => e.id);

      const walked = await walk({ subjectUserId: subject }, NEWEST, 2);

      expect(walked.ids).to.deep.equal([...all].reverse());
      expect(walked.pageSizes).to.deep.equal([2, 2, 1]);
    });

    it('gives an empty next_page_token on a full last page', async () => {
      const subject = randomUUID();
      await writeEvents(tessera(), subject, 4);
      const walked = await walk({ subjectUserId: subject }, OLDEST, 2);
      expect(walked.pageSizes).to.deep.equal([2, 2]);
    });

    it('oldest first: events appended between pages appear at the end, nothing repeats or is skipped', async () => {
      const subject = randomUUID();
      await writeEvents(tessera(), subject, 5);

      const walked = await walk({ subjectUserId: subject }, OLDEST, 2, async (page) => {
        if (page < 2) await writeEvents(tessera(), subject, 2);
      });

      const all = (await listAll({ subjectUserId: subject })).map((e) => e.id);
      expect(all).to.have.length(9);
      expect(walked.ids).to.deep.equal(all);
      expect(new Set(walked.ids).size).to.equal(9);
    });

    it('newest first: events appended between pages do not appear in later pages, nothing repeats or is skipped', async () => {
      const subject = randomUUID();
      await writeEvents(tessera(), subject, 5);
      const before = (await listAll({ subjectUserId: subject })).map((e) => e.id);

      const walked = await walk({ subjectUserId: subject }, NEWEST, 2, async () => {
        await writeEvents(tessera(), subject, 2);
      });

      expect(walked.ids).to.deep.equal([...before].reverse());
      expect(new Set(walked.ids).size).to.equal(5);
      expect((await listAll({ subjectUserId: subject })).length).to.be.greaterThan(5);
    });

    it('uses a default page size of 100 and caps page_size at 1000', async function () {
      this.timeout(20_000);
      const subject = randomUUID();
      await writeManyEvents(subject, 1001);

      const byDefault = await list(admin, { filter: { subjectUserId: subject } });
      expect(byDefault.events).to.have.length(100);
      expect(byDefault.nextPageToken).to.not.equal('');

      const huge = await list(admin, { filter: { subjectUserId: subject }, pageSize: 2_147_483_647 });
      expect(huge.events).to.have.length(1000);
      expect(huge.nextPageToken).to.not.equal('');
      const rest = await list(admin, { filter: { subjectUserId: subject }, pageSize: 5000, pageToken: huge.nextPageToken });
      expect(rest.events).to.have.length(1);
      expect(rest.nextPageToken).to.equal('');
      expect(new Set([...huge.events, ...rest.events].map((e) => e.id)).size).to.equal(1001);
    });

    it('accepts the token with a different page_size and with the same types in another order', async () => {
      const subject = randomUUID();
      await writeEvents(tessera(), subject, 5);
      const types = [AuditEventType.AUDIT_EVENT_TYPE_EMAIL_VERIFICATION_REQUESTED, AuditEventType.AUDIT_EVENT_TYPE_LOGIN_FAILED];
      const first = await list(admin, { filter: { subjectUserId: subject, types }, pageSize: 2 });

      const next = await list(admin, {
        filter: { subjectUserId: subject, types: [...types].reverse() },
        pageSize: 10,
        pageToken: first.nextPageToken,
      });

      expect(next.events).to.have.length(3);
      expect(next.nextPageToken).to.equal('');
    });

    describe('a page token reused with another query is refused', () => {
      let subject: string;
      let token: string;
      let filter: Partial<AuditEventFilter>;

      before(async () => {
        subject = randomUUID();
        await writeEvents(tessera(), subject, 3);
        filter = { subjectUserId: subject };
        token = (await list(admin, { filter, pageSize: 1, order: OLDEST })).nextPageToken;
        expect(token).to.not.equal('');
      });

      const refused = (request: ListRequest) =>
        expectRpcError(list(admin, { pageSize: 1, ...request, pageToken: token }), status.INVALID_ARGUMENT, {
          fields: ['page_token'],
        });

      it('with another subject', () => refused({ filter: { subjectUserId: randomUUID() } }));
      it('with no filter', () => refused({}));
      it('with an added type', () => refused({ filter: { ...filter, types: [AuditEventType.AUDIT_EVENT_TYPE_LOGIN_FAILED] } }));
      it('with an added actor', () => refused({ filter: { ...filter, actorId: randomUUID() } }));
      it('with a time range', () => refused({ filter: { ...filter, startTime: new Date(0) } }));
      it('with the other order', () => refused({ filter, order: NEWEST }));
      it('but accepted with the same filter and order', async () => {
        const res = await list(admin, { filter, pageSize: 1, order: OLDEST, pageToken: token });
        expect(res.events).to.have.length(1);
      });
      it('also when the order is left unspecified (oldest first is the default)', async () => {
        const res = await list(admin, {
          filter,
          pageSize: 1,
          order: AuditEventOrder.AUDIT_EVENT_ORDER_UNSPECIFIED,
          pageToken: token,
        });
        expect(res.events).to.have.length(1);
      });
    });
  });

  describe('invalid requests', () => {
    it('refuses a garbage page token', async () => {
      for (const pageToken of ['garbage!', 'eyJub3QiOiJhIHRva2VuIn0', 'e30']) {
        await expectRpcError(list(admin, { pageToken }), status.INVALID_ARGUMENT, { fields: ['page_token'] });
      }
    });

    it('refuses a tampered page token whose position is not an event id (not INTERNAL)', async () => {
      const fingerprint = queryFingerprint('audit_events', 'oldest_first', auditFilterKey({}));
      for (const id of ['abc', '1; drop table audit_events', '99999999999999999999999']) {
        await expectRpcError(list(admin, { pageToken: encodeOpaquePageToken(fingerprint, { id }) }), status.INVALID_ARGUMENT, {
          fields: ['page_token'],
        });
      }
    });

    it('refuses a negative page_size', async () => {
      await expectRpcError(list(admin, { pageSize: -1 }), status.INVALID_ARGUMENT, { fields: ['page_size'] });
    });

    it('refuses an invalid subject_user_id', async () => {
      await expectRpcError(list(admin, { filter: { subjectUserId: 'not-a-uuid' } }), status.INVALID_ARGUMENT, {
        fields: ['filter.subject_user_id'],
      });
    });

    it('refuses an invalid actor_id', async () => {
      await expectRpcError(list(admin, { filter: { actorId: 'nobody' } }), status.INVALID_ARGUMENT, {
        fields: ['filter.actor_id'],
      });
    });

    it('refuses AUDIT_EVENT_TYPE_UNSPECIFIED and unknown type numbers, naming the index', async () => {
      await expectRpcError(
        list(admin, { filter: { types: [AuditEventType.AUDIT_EVENT_TYPE_UNSPECIFIED] } }),
        status.INVALID_ARGUMENT,
        { fields: ['filter.types[0]'] },
      );
      await expectRpcError(
        list(admin, { filter: { types: [AuditEventType.AUDIT_EVENT_TYPE_LOGIN_FAILED, 999 as AuditEventType] } }),
        status.INVALID_ARGUMENT,
        { fields: ['filter.types[1]'] },
      );
    });

    it('refuses end_time before (or equal to) start_time', async () => {
      const start = new Date('2030-01-01T00:00:00Z');
      await expectRpcError(
        list(admin, { filter: { startTime: start, endTime: new Date(start.getTime() - 1000) } }),
        status.INVALID_ARGUMENT,
        { fields: ['filter.end_time'] },
      );
      await expectRpcError(list(admin, { filter: { startTime: start, endTime: start } }), status.INVALID_ARGUMENT, {
        fields: ['filter.end_time'],
      });
    });

    it('names every invalid field at once', async () => {
      const start = new Date('2030-01-01T00:00:00Z');
      await expectRpcError(
        list(admin, { filter: { subjectUserId: 'x', actorId: 'y', startTime: start, endTime: start } }),
        status.INVALID_ARGUMENT,
        { fields: ['filter.subject_user_id', 'filter.actor_id', 'filter.end_time'] },
      );
    });
  });

  describe('event contents', () => {
    it('user.registered, login.succeeded and profile.updated carry their facts', async () => {
      const user = await activeUser();
      const [registered, login, profile] = (await list(admin, { filter: { subjectUserId: user.id } })).events;
      const [session] = await sql<{ id: string }>('select id from sessions where user_id = $1', [user.id]);

      for (const event of [registered, login, profile]) {
        expect(event.id).to.match(/^[1-9][0-9]*$/);
        expect(event.occurredAt).to.be.instanceOf(Date);
        expect(Math.abs(event.occurredAt!.getTime() - Date.now())).to.be.lessThan(60_000);
        expect(event.requestId).to.not.equal('');
        expect(event.subjectUserId).to.equal(user.id);
        expect(event.actor).to.deep.equal({ type: ActorType.ACTOR_TYPE_USER, id: user.id });
        expect(event.ip).to.equal('127.0.0.1');
        expect(event.userAgent).to.match(/^grpc-node-js\//);
      }

      expect(registered.typeName).to.equal('user.registered');
      expect(registered.type).to.equal(AuditEventType.AUDIT_EVENT_TYPE_USER_REGISTERED);
      expect(registered.details).to.equal(undefined);
      expect(registered.metadata).to.deep.equal({ role: 'user' });

      expect(login.typeName).to.equal('login.succeeded');
      expect(login.details).to.deep.equal({ $case: 'login', value: { method: 'password', sessionId: session.id } });
      expect(decodeJwt(user.accessToken).sid).to.equal(session.id);
      expect(login.metadata, 'what the login details do not carry').to.deep.equal({ rehashed: false });

      expect(profile.typeName).to.equal('profile.updated');
      expect(profile.details).to.deep.equal({ $case: 'profileUpdated', value: { changedFields: ['bio', 'location'] } });
      expect(JSON.stringify(profile)).to.not.include('audited bio');
      expect(JSON.stringify(profile)).to.not.include('Lisbon');

      // Three different calls, three different request ids.
      expect(new Set([registered, login, profile].map((e) => e.requestId)).size).to.equal(3);
    });

    it('login.failed with a wrong password: reason wrong_password, anonymous actor, the user as subject', async () => {
      const { user, email } = await registerUser();
      await expectRpcError(
        call(harness().server.auth, 'login', { email, password: 'a wrong passphrase' }),
        status.UNAUTHENTICATED,
      );

      const { events } = await list(admin, {
        filter: { subjectUserId: user!.id, types: [AuditEventType.AUDIT_EVENT_TYPE_LOGIN_FAILED] },
      });

      expect(events).to.have.length(1);
      expect(events[0].typeName).to.equal('login.failed');
      expect(events[0].details).to.deep.equal({ $case: 'loginFailed', value: { method: 'password', reason: 'wrong_password' } });
      expect(events[0].actor).to.deep.equal({ type: ActorType.ACTOR_TYPE_ANONYMOUS, id: '' });
      expect(JSON.stringify(events[0])).to.not.include('a wrong passphrase');
    });

    it('login.failed for an unknown email: anonymous actor with empty id, no subject', async () => {
      const requestId = `unknown-${randomUUID()}`;
      const md = new Metadata();
      md.set('x-request-id', requestId);
      await expectRpcError(
        call(harness().server.auth, 'login', { email: uniqueEmail('ghost'), password: DEFAULT_PASSWORD }, md),
        status.UNAUTHENTICATED,
      );

      const [row] = await sql<{ id: string }>('select id::text as id from audit_events where request_id = $1', [requestId]);
      const { events } = await list(admin, {
        filter: { types: [AuditEventType.AUDIT_EVENT_TYPE_LOGIN_FAILED] },
        order: NEWEST,
        pageSize: 100,
      });
      const event = events.find((e) => e.id === row.id);

      expect(event, 'the event among the newest login.failed events').to.not.equal(undefined);
      expect(event!.requestId).to.equal(requestId);
      expect(event!.actor).to.deep.equal({ type: ActorType.ACTOR_TYPE_ANONYMOUS, id: '' });
      expect(event!.subjectUserId).to.equal('');
      expect(event!.details).to.deep.equal({ $case: 'loginFailed', value: { method: 'password', reason: 'unknown_account' } });
    });

    it('email_verification.requested (no typed details) carries its metadata as a Struct', async () => {
      const subject = randomUUID();
      await writeEvents(tessera(), subject, 1);
      const [event] = (await list(admin, { filter: { subjectUserId: subject } })).events;
      expect(event.details).to.equal(undefined);
      expect(event.metadata).to.deep.equal({ seq: 0 });
      expect(event.actor).to.deep.equal({ type: ActorType.ACTOR_TYPE_SYSTEM, id: '' });
      expect(event.ip).to.equal('');
    });
  });
});
