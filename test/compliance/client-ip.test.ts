import { Metadata, status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { ListAuditEventsRequest } from '../../src/gen/tessera/v1/compliance_service.js';
import { Role } from '../../src/gen/tessera/v1/user.js';
import { complianceClient } from '../helpers/audit.js';
import {
  adminToken,
  DEFAULT_PASSWORD,
  openedAuditRows,
  registerUser,
  serviceAccountKey,
  signedInUser,
  sql,
  uniqueEmail,
} from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, call, startTestServer, type TestServer } from '../helpers/server.js';
import { emailIndexOf } from '../helpers/email-index.js';

interface StoredFacts {
  ip: string | null;
  user_agent: string | null;
  type: string;
}

/** Registers a user on `server` with the given extra headers; returns what its audit event recorded. */
async function registerThrough(
  server: TestServer,
  headers: Record<string, string>,
): Promise<StoredFacts & { requestId: string; userId: string }> {
  const requestId = `ip-${randomUUID()}`;
  const md = new Metadata();
  md.set('x-request-id', requestId);
  for (const [key, value] of Object.entries(headers)) md.set(key, value);
  const res = await call(
    server.auth,
    'register',
    { email: uniqueEmail('ip'), password: DEFAULT_PASSWORD, fullName: 'IP Test' },
    md,
  );
  const rows = await openedAuditRows('request_id = $1', [requestId], server);
  expect(rows, 'exactly one event for the call').to.have.length(1);
  return { ...rows[0], requestId, userId: res.user!.id };
}

const PROXY_HEADERS = { 'x-forwarded-for': '198.51.100.23, 10.1.2.3', 'x-forwarded-user-agent': 'Mozilla/5.0 (test)' };

describe('Client IP and user agent in audit events', () => {
  describe('without trusted proxies (the shared server)', () => {
    it('ignores x-forwarded-for and x-forwarded-user-agent', async () => {
      const facts = await registerThrough(harness().server, PROXY_HEADERS);
      expect(facts.type).to.equal('user.registered');
      expect(facts.ip).to.equal('127.0.0.1');
      expect(facts.user_agent).to.match(/^grpc-node-js\//);
    });

    it('shows the same facts through ListAuditEvents', async () => {
      const facts = await registerThrough(harness().server, PROXY_HEADERS);
      const client = complianceClient();
      try {
        const res = await call(
          client,
          'listAuditEvents',
          ListAuditEventsRequest.fromPartial({ filter: { subjectUserId: facts.userId } }),
          bearer(await adminToken()),
        );
        expect(res.events).to.have.length(1);
        expect(res.events[0].ip).to.equal('127.0.0.1');
        expect(res.events[0].userAgent).to.match(/^grpc-node-js\//);
        expect(res.events[0].requestId).to.equal(facts.requestId);
      } finally {
        client.close();
      }
    });
  });

  describe('behind a trusted proxy', () => {
    let proxied: TestServer;

    before(async function () {
      this.timeout(30_000);
      const shared = harness().server.env;
      proxied = await startTestServer(harness().db, {
        TRUSTED_PROXIES: '127.0.0.1/32,10.0.0.0/8',
        // Same database, so the same secrets: the signing keys are sealed with the master key.
        TESSERA_MASTER_KEY: shared.TESSERA_MASTER_KEY,
        TESSERA_PEPPER: shared.TESSERA_PEPPER,
        TESSERA_BOOTSTRAP_ADMIN_EMAIL: '',
        TESSERA_BOOTSTRAP_ADMIN_PASSWORD: '',
      });
    });

    after(async function () {
      this.timeout(30_000);
      await proxied?.close();
    });

    it('records the first untrusted hop of x-forwarded-for and x-forwarded-user-agent', async () => {
      const facts = await registerThrough(proxied, PROXY_HEADERS);
      expect(facts.ip).to.equal('198.51.100.23');
      expect(facts.user_agent).to.equal('Mozilla/5.0 (test)');
    });

    it('does not let the client prepend a spoofed address', async () => {
      const facts = await registerThrough(proxied, { 'x-forwarded-for': '203.0.113.66, 198.51.100.23, 10.1.2.3' });
      expect(facts.ip).to.equal('198.51.100.23');
    });

    it('skips a malformed entry', async () => {
      const facts = await registerThrough(proxied, {
        'x-forwarded-for': '198.51.100.23, not-an-ip, 10.1.2.3',
        'x-forwarded-user-agent': 'Mozilla/5.0 (test)',
      });
      expect(facts.ip).to.equal('198.51.100.23');
      expect(facts.user_agent).to.equal('Mozilla/5.0 (test)');
    });

    it('keeps the peer address when the proxy sends no usable x-forwarded-for', async () => {
      const none = await registerThrough(proxied, {});
      expect(none.ip).to.equal('127.0.0.1');
      expect(none.user_agent).to.match(/^grpc-node-js\//);
      const garbage = await registerThrough(proxied, { 'x-forwarded-for': 'garbage, also garbage' });
      expect(garbage.ip).to.equal('127.0.0.1');
    });

    it('records the forwarded client on the session too', async () => {
      const email = uniqueEmail('ip-session');
      await call(proxied.auth, 'register', { email, password: DEFAULT_PASSWORD, fullName: 'IP Session' });
      const md = new Metadata();
      for (const [key, value] of Object.entries(PROXY_HEADERS)) md.set(key, value);
      const res = await call(proxied.auth, 'login', { email, password: DEFAULT_PASSWORD }, md);
      const [stored] = await sql<{ ip: string }>('select ip from sessions where user_id = $1', [res.user!.id]);
      expect(stored.ip, 'sealed under the user key').to.match(/^v1\./);
      const { sessions } = await call(
        proxied.auth,
        'listSessions',
        { pageSize: 0, pageToken: '' },
        bearer(res.tokens!.accessToken),
      );
      expect(sessions[0]).to.include({ ipAddress: '198.51.100.23', userAgent: 'Mozilla/5.0 (test)' });
      const [event] = await openedAuditRows("subject_user_id = $1 and type = 'login.succeeded'", [res.user!.id]);
      expect(event.ip).to.equal('198.51.100.23');
    });
  });

  describe('a service account vouching for its end user (the shared server, no trusted proxies)', () => {
    const END_USER_IP = '198.51.100.77';

    /** Metadata of a call with x-request-id, the given bearer credential and extra headers. */
    function metadataOf(requestId: string, credential: string, headers: Record<string, string>): Metadata {
      const md = new Metadata();
      md.set('x-request-id', requestId);
      md.set('authorization', `Bearer ${credential}`);
      for (const [key, value] of Object.entries(headers)) md.set(key, value);
      return md;
    }

    it('records the forwarded address when a service account calls with its API key', async () => {
      const service = await serviceAccountKey(Role.ROLE_SERVICE);
      const { user } = await registerUser();
      const requestId = `ip-${randomUUID()}`;

      await call(
        harness().server.identity,
        'suspendUser',
        { userId: user.id, reason: 'backend asked' },
        metadataOf(requestId, service.apiKey, { 'x-forwarded-for': END_USER_IP, 'x-forwarded-user-agent': 'EndUserApp/1.0' }),
      );

      const rows = await openedAuditRows('request_id = $1', [requestId]);
      // The suspension also writes sessions.revoked_all: every event of the call carries the same facts.
      expect(rows.map((r) => r.type)).to.have.members(['user.suspended', 'sessions.revoked_all']);
      for (const row of rows) {
        expect(row).to.include({ ip: END_USER_IP, user_agent: 'EndUserApp/1.0' });
        expect(row).to.include({ actor_type: 'service_account', actor_id: service.id });
      }
    });

    it('records the forwarded address on a public RPC (Register) called with a valid service-account key', async () => {
      const service = await serviceAccountKey(Role.ROLE_SERVICE);

      const facts = await registerThrough(harness().server, {
        authorization: `Bearer ${service.apiKey}`,
        'x-forwarded-for': END_USER_IP,
      });

      expect(facts.type).to.equal('user.registered');
      expect(facts.ip).to.equal(END_USER_IP);
      expect(facts.user_agent).to.match(/^grpc-node-js\//);
      // The key only vouches for the address: the actor is still the new user.
      const [actor] = await sql<{ actor_type: string; actor_id: string }>(
        'select actor_type, actor_id from audit_events where request_id = $1',
        [facts.requestId],
      );
      expect(actor).to.deep.equal({ actor_type: 'user', actor_id: facts.userId });
    });

    it('still ignores x-forwarded-for from a signed-in user', async () => {
      const user = await signedInUser();
      const requestId = `ip-${randomUUID()}`;

      await call(
        harness().server.auth,
        'revokeAllSessions',
        { keepCurrent: true },
        metadataOf(requestId, user.accessToken, { 'x-forwarded-for': END_USER_IP }),
      );

      const rows = await openedAuditRows('request_id = $1', [requestId]);
      expect(rows.map((r) => [r.type, r.ip])).to.deep.equal([['sessions.revoked_all', '127.0.0.1']]);
    });

    it('refuses Register with a wrong tsk_ key: UNAUTHENTICATED, nothing written', async () => {
      const requestId = `ip-${randomUUID()}`;
      const email = uniqueEmail('ip-wrong-key');
      const wrongKey = `tsk_${'A'.repeat(43)}`;

      await expectRpcError(
        call(
          harness().server.auth,
          'register',
          { email, password: DEFAULT_PASSWORD, fullName: 'Wrong Key' },
          metadataOf(requestId, wrongKey, { 'x-forwarded-for': END_USER_IP }),
        ),
        status.UNAUTHENTICATED,
        { reason: 'INVALID_API_KEY' },
      );

      expect(await sql('select id from audit_events where request_id = $1', [requestId])).to.have.length(0);
      expect(await sql('select id from users where email_index = $1', [emailIndexOf(email)])).to.have.length(0);
    });
  });
});
