import { Metadata, status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Role } from '../../src/gen/tessera/v1/user.js';
import {
  adminToken,
  auditEventsOfRequest,
  serviceAccountKey,
  signedInUser,
  signedInWithRole,
  sql,
  traced,
} from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, call } from '../helpers/server.js';

const identity = () => harness().server.identity;
const uniqueName = () => `svc-${randomBytes(5).toString('hex')}`;
/** An RPC any service account may call (users:read). */
const listOneUser = (metadata: Metadata) =>
  call(identity(), 'listUsers', { pageSize: 1, pageToken: '', filter: '', showDeleted: false }, metadata);

describe('IdentityService service accounts', () => {
  let admin: string;
  before(async () => {
    admin = await adminToken();
  });

  describe('CreateServiceAccount', () => {
    it('returns the account and a tsk_ key shown once and stored only as a SHA-256 hash', async () => {
      const name = uniqueName();
      const { metadata, requestId } = traced(admin);

      const res = await call(
        identity(),
        'createServiceAccount',
        { name, role: Role.ROLE_UNSPECIFIED, certificateIdentity: '' },
        metadata,
      );

      expect(res.apiKey).to.match(/^tsk_[A-Za-z0-9_-]{43}$/);
      const account = res.serviceAccount!;
      expect(account).to.include({ name, role: Role.ROLE_SERVICE, apiKeyPrefix: res.apiKey.slice(0, 12) });
      expect(account.createdAt).to.be.instanceOf(Date);
      expect(account.lastUsedAt).to.equal(undefined);
      const [row] = await sql<{ api_key_hash: string; whole_row: string }>(
        'select api_key_hash, s::text as whole_row from service_accounts s where id = $1',
        [account.id],
      );
      expect(row.api_key_hash).to.equal(createHash('sha256').update(res.apiKey).digest('hex'));
      expect(row.whole_row).to.not.include(res.apiKey.slice(12));
      const events = await auditEventsOfRequest(requestId);
      expect(events).to.have.length(1);
      expect(events[0]).to.include({ type: 'service_account.created', actor_type: 'user', subject_user_id: null });
      expect(events[0].metadata).to.deep.equal({
        service_account_id: account.id,
        name,
        role: 'service',
        api_key_prefix: account.apiKeyPrefix,
      });
      expect(JSON.stringify(events)).to.not.include(res.apiKey.slice(12));
      // Never shown again.
      const listed = await call(identity(), 'listServiceAccounts', { pageSize: 1000, pageToken: '' }, bearer(admin));
      expect(JSON.stringify(listed)).to.not.include(res.apiKey.slice(12));
    });

    it('accepts the auditor and admin roles', async () => {
      for (const role of [Role.ROLE_AUDITOR, Role.ROLE_ADMIN]) {
        const res = await call(
          identity(),
          'createServiceAccount',
          { name: uniqueName(), role, certificateIdentity: '' },
          bearer(admin),
        );
        expect(res.serviceAccount!.role).to.equal(role);
      }
    });

    const invalid: [string, string, Role, string[]][] = [
      ['an empty name', '', Role.ROLE_SERVICE, ['name']],
      ['an upper-case name', 'Billing', Role.ROLE_SERVICE, ['name']],
      ['a name of 65 characters', 'a'.repeat(65), Role.ROLE_SERVICE, ['name']],
      ['a name with a space', 'billing backend', Role.ROLE_SERVICE, ['name']],
      ['the user role', 'fine-name', Role.ROLE_USER, ['role']],
      ['an unknown role number', 'fine-name', 99 as Role, ['role']],
      ['both', '', Role.ROLE_USER, ['name', 'role']],
    ];
    for (const [what, name, role, fields] of invalid) {
      it(`refuses ${what} with INVALID_ARGUMENT on ${fields.join(', ')}`, async () => {
        await expectRpcError(
          call(identity(), 'createServiceAccount', { name, role, certificateIdentity: '' }, bearer(admin)),
          status.INVALID_ARGUMENT,
          {
            fields,
          },
        );
      });
    }

    it('refuses a name a live account has (ALREADY_EXISTS), and frees it when that account is deleted', async () => {
      const name = uniqueName();
      const first = await call(
        identity(),
        'createServiceAccount',
        { name, role: Role.ROLE_SERVICE, certificateIdentity: '' },
        bearer(admin),
      );
      await expectRpcError(
        call(identity(), 'createServiceAccount', { name, role: Role.ROLE_SERVICE, certificateIdentity: '' }, bearer(admin)),
        status.ALREADY_EXISTS,
        {
          reason: 'SERVICE_ACCOUNT_NAME_TAKEN',
        },
      );
      await call(identity(), 'deleteServiceAccount', { serviceAccountId: first.serviceAccount!.id }, bearer(admin));
      const again = await call(
        identity(),
        'createServiceAccount',
        { name, role: Role.ROLE_SERVICE, certificateIdentity: '' },
        bearer(admin),
      );
      expect(again.serviceAccount!.id).to.not.equal(first.serviceAccount!.id);
    });

    it('is PERMISSION_DENIED to users, auditors and service accounts', async () => {
      const user = await signedInUser();
      const auditor = await signedInWithRole('auditor');
      const { apiKey } = await serviceAccountKey();
      for (const token of [user.accessToken, auditor.accessToken, apiKey]) {
        await expectRpcError(
          call(
            identity(),
            'createServiceAccount',
            { name: uniqueName(), role: Role.ROLE_SERVICE, certificateIdentity: '' },
            bearer(token),
          ),
          status.PERMISSION_DENIED,
          {
            reason: 'PERMISSION_DENIED',
          },
        );
      }
    });
  });

  describe('the API key as a bearer credential', () => {
    it("works, with the account's role, and records last_used_at", async () => {
      const { apiKey, id } = await serviceAccountKey(Role.ROLE_SERVICE);

      expect((await listOneUser(bearer(apiKey))).users).to.have.length(1);

      const [row] = await sql<{ last_used_at: Date | null }>('select last_used_at from service_accounts where id = $1', [id]);
      expect(row.last_used_at!.getTime()).to.be.within(Date.now() - 10_000, Date.now() + 1000);
      const listed = await call(identity(), 'listServiceAccounts', { pageSize: 1000, pageToken: '' }, bearer(admin));
      expect(listed.serviceAccounts.find((a) => a.id === id)!.lastUsedAt).to.be.instanceOf(Date);
    });

    it('is refused when wrong, malformed or of another shape: UNAUTHENTICATED, INVALID_API_KEY', async () => {
      const { apiKey } = await serviceAccountKey();
      const flipped = `${apiKey.slice(0, -1)}${apiKey.endsWith('A') ? 'B' : 'A'}`;
      for (const key of [flipped, `tsk_${randomBytes(32).toString('base64url')}`, 'tsk_short', `${apiKey}x`]) {
        await expectRpcError(listOneUser(bearer(key)), status.UNAUTHENTICATED, { reason: 'INVALID_API_KEY' });
      }
    });

    it('stops working at once when the account is deleted', async () => {
      const { apiKey, id } = await serviceAccountKey();
      expect((await listOneUser(bearer(apiKey))).users).to.have.length(1);
      const { metadata, requestId } = traced(admin);

      await call(identity(), 'deleteServiceAccount', { serviceAccountId: id }, metadata);

      await expectRpcError(listOneUser(bearer(apiKey)), status.UNAUTHENTICATED, { reason: 'INVALID_API_KEY' });
      const [event] = await auditEventsOfRequest(requestId);
      expect(event.type).to.equal('service_account.deleted');
      expect(event.metadata).to.include({ service_account_id: id });
    });

    it('cannot act on behalf of a user account (no own profile or links)', async () => {
      const { apiKey } = await serviceAccountKey();
      await expectRpcError(
        call(harness().server.profile, 'updateProfile', { profile: undefined, updateMask: ['bio'] }, bearer(apiKey)),
        status.PERMISSION_DENIED,
      );
      await expectRpcError(call(identity(), 'unlinkSocialLogin', { provider: 'x' }, bearer(apiKey)), status.PERMISSION_DENIED);
    });
  });

  describe('ListServiceAccounts', () => {
    it('pages through live accounts oldest first, without the deleted ones', async () => {
      const a = await serviceAccountKey();
      const b = await serviceAccountKey();
      const c = await serviceAccountKey();
      await call(identity(), 'deleteServiceAccount', { serviceAccountId: b.id }, bearer(admin));
      const seen: string[] = [];
      let pageToken = '';
      do {
        const res = await call(identity(), 'listServiceAccounts', { pageSize: 2, pageToken }, bearer(admin));
        expect(res.serviceAccounts.length).to.be.at.most(2);
        seen.push(...res.serviceAccounts.map((s) => s.id));
        pageToken = res.nextPageToken;
      } while (pageToken);
      expect(new Set(seen).size).to.equal(seen.length);
      expect(seen).to.include.members([a.id, c.id]);
      expect(seen).to.not.include(b.id);
      expect(seen.indexOf(a.id)).to.be.lessThan(seen.indexOf(c.id));
    });

    it('refuses a foreign page token and a negative page size (INVALID_ARGUMENT)', async () => {
      await expectRpcError(
        call(identity(), 'listServiceAccounts', { pageSize: 1, pageToken: 'nope' }, bearer(admin)),
        status.INVALID_ARGUMENT,
        {
          fields: ['page_token'],
        },
      );
      await expectRpcError(
        call(identity(), 'listServiceAccounts', { pageSize: -5, pageToken: '' }, bearer(admin)),
        status.INVALID_ARGUMENT,
        {
          fields: ['page_size'],
        },
      );
    });
  });

  describe('DeleteServiceAccount', () => {
    it('refuses a missing or malformed id (INVALID_ARGUMENT) and an unknown or already deleted one (NOT_FOUND)', async () => {
      await expectRpcError(
        call(identity(), 'deleteServiceAccount', { serviceAccountId: '' }, bearer(admin)),
        status.INVALID_ARGUMENT,
        {
          fields: ['service_account_id'],
        },
      );
      await expectRpcError(
        call(identity(), 'deleteServiceAccount', { serviceAccountId: 'x1' }, bearer(admin)),
        status.INVALID_ARGUMENT,
        {
          fields: ['service_account_id'],
        },
      );
      await expectRpcError(
        call(identity(), 'deleteServiceAccount', { serviceAccountId: randomUUID() }, bearer(admin)),
        status.NOT_FOUND,
        {
          reason: 'SERVICE_ACCOUNT_NOT_FOUND',
        },
      );
      const { id } = await serviceAccountKey();
      await call(identity(), 'deleteServiceAccount', { serviceAccountId: id }, bearer(admin));
      await expectRpcError(call(identity(), 'deleteServiceAccount', { serviceAccountId: id }, bearer(admin)), status.NOT_FOUND, {
        reason: 'SERVICE_ACCOUNT_NOT_FOUND',
      });
    });
  });
});
