import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { AuditEventType as DomainAuditEventType } from '../../src/domain/audit.js';
import { ActorType, AuditEventType, type AuditEvent } from '../../src/gen/tessera/v1/audit_event.js';
import { AuthServiceService } from '../../src/gen/tessera/v1/auth_service.js';
import {
  AuditEventOrder,
  ComplianceServiceService,
  ListAuditEventsRequest,
  type ComplianceServiceClient,
} from '../../src/gen/tessera/v1/compliance_service.js';
import { IdentityServiceService } from '../../src/gen/tessera/v1/identity_service.js';
import { Profile } from '../../src/gen/tessera/v1/profile.js';
import { ProfileServiceService } from '../../src/gen/tessera/v1/profile_service.js';
import { auditTypeFromProto, auditTypeToProto } from '../../src/rpc/audit-convert.js';
import { adminToken, complianceClient } from '../helpers/audit.js';
import { DEFAULT_PASSWORD, registerUser, signedInUser, sql, uniqueEmail } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { call } from '../helpers/server.js';

/** What a case's action did: the user the event concerns (null: none) and every secret it handled. */
interface Acted {
  subject: string | null;
  secrets: string[];
}

interface CatalogueCase {
  rpc: string;
  /** Performs the call under test with `md` (which carries its x-request-id); setup calls use other ids. */
  act: (md: Metadata) => Promise<Acted>;
  expect: {
    type: AuditEventType;
    typeName: string;
    actorType: ActorType;
    /** The actor id is the subject's (true) or empty (false). */
    actorIsSubject: boolean;
    /** The typed details case; undefined: no details, and `metadataKeys` instead. */
    details?: NonNullable<AuditEvent['details']>['$case'];
    metadataKeys?: string[];
  };
}

const WRONG_PASSWORD = 'definitely the wrong passphrase';
const PHONE = '+351912345678';

/** Metadata with a fresh x-request-id, plus `authorization` when a token is given. */
function requestMetadata(requestId: string, token?: string): Metadata {
  const md = new Metadata();
  md.set('x-request-id', requestId);
  if (token) md.set('authorization', `Bearer ${token}`);
  return md;
}

function withToken(md: Metadata, token: string): Metadata {
  const copy = md.clone();
  copy.set('authorization', `Bearer ${token}`);
  return copy;
}

const auth = () => harness().server.auth;
const profile = () => harness().server.profile;

const CASES: CatalogueCase[] = [
  {
    rpc: 'AuthService.Register',
    act: async (md) => {
      const email = uniqueEmail('cat-register');
      const res = await call(auth(), 'register', { email, password: DEFAULT_PASSWORD, fullName: 'Catalogue Register' }, md);
      return { subject: res.user!.id, secrets: [DEFAULT_PASSWORD] };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_USER_REGISTERED,
      typeName: 'user.registered',
      actorType: ActorType.ACTOR_TYPE_USER,
      actorIsSubject: true,
      metadataKeys: ['role'],
    },
  },
  {
    rpc: 'AuthService.Login (success)',
    act: async (md) => {
      const { email, password } = await registerUser();
      const res = await call(auth(), 'login', { email, password }, md);
      return { subject: res.user!.id, secrets: [password, res.tokens!.accessToken, res.tokens!.refreshToken] };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_LOGIN_SUCCEEDED,
      typeName: 'login.succeeded',
      actorType: ActorType.ACTOR_TYPE_USER,
      actorIsSubject: true,
      details: 'login',
    },
  },
  {
    rpc: 'AuthService.Login (wrong password)',
    act: async (md) => {
      const { user, email, password } = await registerUser();
      await expectRpcError(call(auth(), 'login', { email, password: WRONG_PASSWORD }, md), status.UNAUTHENTICATED);
      return { subject: user.id, secrets: [password, WRONG_PASSWORD] };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_LOGIN_FAILED,
      typeName: 'login.failed',
      actorType: ActorType.ACTOR_TYPE_ANONYMOUS,
      actorIsSubject: false,
      details: 'loginFailed',
    },
  },
  {
    rpc: 'AuthService.Login (unknown email)',
    act: async (md) => {
      await expectRpcError(call(auth(), 'login', { email: uniqueEmail('cat-ghost'), password: WRONG_PASSWORD }, md), status.UNAUTHENTICATED);
      return { subject: null, secrets: [WRONG_PASSWORD] };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_LOGIN_FAILED,
      typeName: 'login.failed',
      actorType: ActorType.ACTOR_TYPE_ANONYMOUS,
      actorIsSubject: false,
      details: 'loginFailed',
    },
  },
  {
    rpc: 'AuthService.RefreshToken',
    act: async (md) => {
      const user = await signedInUser();
      const res = await call(auth(), 'refreshToken', { refreshToken: user.refreshToken }, md);
      return {
        subject: user.user!.id,
        secrets: [user.password, user.accessToken, user.refreshToken, res.tokens!.accessToken, res.tokens!.refreshToken],
      };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_TOKEN_REFRESHED,
      typeName: 'token.refreshed',
      actorType: ActorType.ACTOR_TYPE_USER,
      actorIsSubject: true,
      details: 'session',
    },
  },
  {
    rpc: 'AuthService.Logout',
    act: async (md) => {
      const user = await signedInUser();
      await call(auth(), 'logout', { refreshToken: user.refreshToken }, md);
      return { subject: user.user!.id, secrets: [user.password, user.accessToken, user.refreshToken] };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_SESSION_LOGGED_OUT,
      typeName: 'session.logged_out',
      actorType: ActorType.ACTOR_TYPE_USER,
      actorIsSubject: true,
      details: 'session',
    },
  },
  {
    rpc: 'ProfileService.UpdateProfile',
    act: async (md) => {
      const user = await signedInUser();
      await call(
        profile(),
        'updateProfile',
        { profile: Profile.fromPartial({ phoneNumber: PHONE, bio: 'catalogue bio' }), updateMask: ['phone_number', 'bio'] },
        withToken(md, user.accessToken),
      );
      return { subject: user.user!.id, secrets: [user.password, user.accessToken, user.refreshToken, PHONE, 'catalogue bio'] };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_PROFILE_UPDATED,
      typeName: 'profile.updated',
      actorType: ActorType.ACTOR_TYPE_USER,
      actorIsSubject: true,
      details: 'profileUpdated',
    },
  },
];

/** RPCs that change nothing and so must write no event. */
const READ_ONLY = ['AuthService.GetJwks', 'ProfileService.GetProfile', 'ComplianceService.ListAuditEvents', 'ComplianceService.StreamAuditEvents'];

/** Secrets or secret-shaped strings that must never appear in an event. */
const ALWAYS_FORBIDDEN = ['$argon2', 'tsr_', DEFAULT_PASSWORD];

let client: ComplianceServiceClient;
let admin: string;

async function rowsOfRequest(requestId: string) {
  return sql<{ id: string; row: string }>(
    'select id::text as id, row_to_json(e)::text as row from audit_events e where request_id = $1 order by id',
    [requestId],
  );
}

/** The event with `id` through ListAuditEvents, found by subject (or by type, newest first, for subject-less events). */
async function eventThroughApi(id: string, subject: string | null, type: AuditEventType): Promise<AuditEvent | undefined> {
  const request = ListAuditEventsRequest.fromPartial({
    filter: { subjectUserId: subject ?? '', types: [type] },
    order: AuditEventOrder.AUDIT_EVENT_ORDER_NEWEST_FIRST,
    pageSize: 200,
  });
  const md = new Metadata();
  md.set('authorization', `Bearer ${admin}`);
  const res = await call(client, 'listAuditEvents', request, md);
  return res.events.find((e) => e.id === id);
}

function rpcNames(service: Record<string, { path: string }>): string[] {
  return Object.values(service).map((m) => m.path.replace(/^\/tessera\.v1\./, '').replace('/', '.'));
}

describe('Audit events of every RPC', () => {
  before(async () => {
    client = complianceClient();
    admin = await adminToken();
  });

  after(() => client.close());

  it('the table covers every RPC of every service (state-changing or read-only)', () => {
    const all = [AuthServiceService, ProfileServiceService, ComplianceServiceService, IdentityServiceService].flatMap((s) =>
      rpcNames(s as Record<string, { path: string }>),
    );
    const covered = new Set([...CASES.map((c) => c.rpc.replace(/ \(.*\)$/, '')), ...READ_ONLY]);
    expect(all.filter((rpc) => !covered.has(rpc)), 'RPCs without a catalogue case').to.deep.equal([]);
  });

  for (const c of CASES) {
    it(`${c.rpc} writes one ${c.expect.typeName} event with the call's facts and no secret`, async () => {
      const requestId = `cat-${randomUUID()}`;
      const acted = await c.act(requestMetadata(requestId));

      const rows = await rowsOfRequest(requestId);
      expect(rows, `events with request id ${requestId}`).to.have.length(1);
      const event = await eventThroughApi(rows[0].id, acted.subject, c.expect.type);
      expect(event, 'the event through ListAuditEvents').to.not.equal(undefined);

      expect(event!.id).to.match(/^[1-9][0-9]*$/);
      expect(event!.type).to.equal(c.expect.type);
      expect(event!.typeName).to.equal(c.expect.typeName);
      expect(event!.requestId).to.equal(requestId);
      expect(event!.ip).to.equal('127.0.0.1');
      expect(event!.userAgent).to.match(/^grpc-node-js\//);
      expect(event!.occurredAt).to.be.instanceOf(Date);
      expect(event!.subjectUserId).to.equal(acted.subject ?? '');
      expect(event!.actor).to.deep.equal({
        type: c.expect.actorType,
        id: c.expect.actorIsSubject ? acted.subject : '',
      });
      if (c.expect.details) {
        expect(event!.details?.$case).to.equal(c.expect.details);
        expect(event!.metadata).to.equal(undefined);
      } else {
        expect(event!.details).to.equal(undefined);
        expect(Object.keys(event!.metadata ?? {})).to.have.members(c.expect.metadataKeys ?? []);
      }

      const texts = { api: JSON.stringify(event), row: rows[0].row };
      for (const [where, text] of Object.entries(texts)) {
        for (const secret of [...ALWAYS_FORBIDDEN, ...acted.secrets]) {
          expect(text.includes(secret), `${where} JSON contains the secret ${secret.slice(0, 12)}…`).to.equal(false);
        }
      }
    });
  }

  it('the typed details hold the right values', async () => {
    const user = await signedInUser();
    const [session] = await sql<{ id: string }>('select id from sessions where user_id = $1', [user.user!.id]);
    await call(auth(), 'refreshToken', { refreshToken: user.refreshToken }, requestMetadata(`cat-${randomUUID()}`));
    const refreshed = await eventThroughApi(
      (await sql<{ id: string }>("select id::text as id from audit_events where subject_user_id = $1 and type = 'token.refreshed'", [user.user!.id]))[0].id,
      user.user!.id,
      AuditEventType.AUDIT_EVENT_TYPE_TOKEN_REFRESHED,
    );
    expect(refreshed!.details).to.deep.equal({ $case: 'session', value: { sessionId: session.id, reason: '' } });

    const ghostId = `cat-${randomUUID()}`;
    await expectRpcError(call(auth(), 'login', { email: uniqueEmail('ghost'), password: WRONG_PASSWORD }, requestMetadata(ghostId)), status.UNAUTHENTICATED);
    const [ghostRow] = await rowsOfRequest(ghostId);
    const ghost = await eventThroughApi(ghostRow.id, null, AuditEventType.AUDIT_EVENT_TYPE_LOGIN_FAILED);
    expect(ghost!.details).to.deep.equal({ $case: 'loginFailed', value: { method: 'password', reason: 'unknown_account' } });
  });

  describe('read-only RPCs write no event', () => {
    const expectNoEvent = async (requestId: string) => expect(await rowsOfRequest(requestId)).to.have.length(0);

    it('AuthService.GetJwks', async () => {
      const requestId = `ro-${randomUUID()}`;
      await call(auth(), 'getJwks', {}, requestMetadata(requestId));
      await expectNoEvent(requestId);
    });

    it('ProfileService.GetProfile', async () => {
      const user = await signedInUser();
      const requestId = `ro-${randomUUID()}`;
      await call(profile(), 'getProfile', { userId: '' }, requestMetadata(requestId, user.accessToken));
      await expectNoEvent(requestId);
    });

    it('ComplianceService.ListAuditEvents', async () => {
      const requestId = `ro-${randomUUID()}`;
      await call(client, 'listAuditEvents', ListAuditEventsRequest.fromPartial({ pageSize: 10 }), requestMetadata(requestId, admin));
      await expectNoEvent(requestId);
    });

    it('ComplianceService.StreamAuditEvents', async () => {
      const requestId = `ro-${randomUUID()}`;
      const stream = client.streamAuditEvents({ afterEventId: undefined, filter: undefined }, requestMetadata(requestId, admin));
      const ended = new Promise<status | undefined>((resolve) => {
        stream.on('error', (err: ServiceError) => resolve(err.code));
        stream.on('end', () => resolve(undefined));
      });
      stream.on('data', () => {});
      await new Promise((resolve) => setTimeout(resolve, 200));
      stream.cancel();
      expect(await ended).to.equal(status.CANCELLED);
      await expectNoEvent(requestId);
    });
  });

  describe('failed calls write nothing (nothing half-written)', () => {
    it('AuthService.Register with a taken email', async () => {
      const { email } = await registerUser();
      const requestId = `fail-${randomUUID()}`;
      await expectRpcError(
        call(auth(), 'register', { email, password: DEFAULT_PASSWORD, fullName: 'Duplicate' }, requestMetadata(requestId)),
        status.ALREADY_EXISTS,
      );
      expect(await rowsOfRequest(requestId)).to.have.length(0);
      expect(await sql('select id from users where email = $1', [email])).to.have.length(1);
    });

    it('AuthService.Register with invalid input', async () => {
      const requestId = `fail-${randomUUID()}`;
      await expectRpcError(
        call(auth(), 'register', { email: 'not an email', password: 'short', fullName: '' }, requestMetadata(requestId)),
        status.INVALID_ARGUMENT,
      );
      expect(await rowsOfRequest(requestId)).to.have.length(0);
    });

    it('ProfileService.UpdateProfile with an invalid phone number', async () => {
      const user = await signedInUser();
      const requestId = `fail-${randomUUID()}`;
      await expectRpcError(
        call(
          profile(),
          'updateProfile',
          { profile: Profile.fromPartial({ phoneNumber: 'call me maybe', bio: 'should not be saved' }), updateMask: ['phone_number', 'bio'] },
          requestMetadata(requestId, user.accessToken),
        ),
        status.INVALID_ARGUMENT,
        { fields: ['profile.phone_number'] },
      );
      expect(await rowsOfRequest(requestId)).to.have.length(0);
      const [row] = await sql<{ bio: string }>('select bio from user_profiles where user_id = $1', [user.user!.id]);
      expect(row.bio).to.equal('');
      const events = await sql("select id from audit_events where subject_user_id = $1 and type = 'profile.updated'", [user.user!.id]);
      expect(events).to.have.length(0);
    });

    it('AuthService.RefreshToken with an unknown token', async () => {
      const requestId = `fail-${randomUUID()}`;
      await expectRpcError(
        call(auth(), 'refreshToken', { refreshToken: `tsr_${'x'.repeat(43)}` }, requestMetadata(requestId)),
        status.UNAUTHENTICATED,
      );
      expect(await rowsOfRequest(requestId)).to.have.length(0);
    });
  });

  describe('the catalogue mapping (domain <-> proto)', () => {
    const domainTypes = Object.values(DomainAuditEventType);
    const protoValues = Object.values(AuditEventType).filter((v): v is AuditEventType => typeof v === 'number');

    it('maps every domain type to a proto value and back', () => {
      const seen = new Set<AuditEventType>();
      for (const name of domainTypes) {
        const value = auditTypeToProto(name);
        expect(value, name).to.not.equal(AuditEventType.AUDIT_EVENT_TYPE_UNSPECIFIED);
        expect(value, name).to.not.equal(AuditEventType.UNRECOGNIZED);
        expect(auditTypeFromProto(value), name).to.equal(name);
        expect(seen.has(value), `${name} shares its proto value`).to.equal(false);
        seen.add(value);
      }
    });

    it('maps every proto value except UNSPECIFIED and UNRECOGNIZED to a domain type', () => {
      const unmapped: string[] = [];
      for (const value of protoValues) {
        if (value === AuditEventType.AUDIT_EVENT_TYPE_UNSPECIFIED || value === AuditEventType.UNRECOGNIZED) continue;
        const name = auditTypeFromProto(value);
        if (!name || !(domainTypes as string[]).includes(name)) unmapped.push(AuditEventType[value]);
      }
      expect(unmapped).to.deep.equal([]);
      expect(protoValues.length - 2).to.equal(domainTypes.length);
    });

    it('maps UNSPECIFIED, UNRECOGNIZED and unknown numbers to nothing, unknown names to UNSPECIFIED', () => {
      expect(auditTypeFromProto(AuditEventType.AUDIT_EVENT_TYPE_UNSPECIFIED)).to.equal(undefined);
      expect(auditTypeFromProto(AuditEventType.UNRECOGNIZED)).to.equal(undefined);
      expect(auditTypeFromProto(9999 as AuditEventType)).to.equal(undefined);
      expect(auditTypeToProto('no.such_type')).to.equal(AuditEventType.AUDIT_EVENT_TYPE_UNSPECIFIED);
      expect(auditTypeToProto('')).to.equal(AuditEventType.AUDIT_EVENT_TYPE_UNSPECIFIED);
    });
  });
});
