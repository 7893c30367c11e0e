import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { adminToken, auditEventsOfRequest, signedInUser, signedInWithRole, sql, traced } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { userWithTotp } from '../helpers/mfa.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, call } from '../helpers/server.js';

const identity = () => harness().server.identity;
const getProfile = (accessToken: string) => call(harness().server.profile, 'getProfile', { userId: '' }, bearer(accessToken));

describe('IdentityService.ResetUserMfa', () => {
  // Codes are made fresh by moving the shared server's clock (test/helpers/mfa.ts): put it back for the next test.
  afterEach(() => harness().server.clock.reset());
  let admin: string;
  before(async () => {
    admin = await adminToken();
  });

  it('removes the factor and recovery codes and ends every session, in one audited transaction', async () => {
    const target = await userWithTotp();
    const { metadata, requestId } = traced(admin);

    const res = await call(identity(), 'resetUserMfa', { userId: target.user!.id }, metadata);

    expect(res).to.deep.equal({ totpRemoved: true, sessionsRevoked: 1 });
    await expectRpcError(getProfile(target.accessToken), status.UNAUTHENTICATED, { reason: 'SESSION_REVOKED' });
    const left = await sql(
      'select 1 from totp_factors where user_id = $1 union all select 1 from recovery_codes where user_id = $1',
      [target.user!.id],
    );
    expect(left).to.have.length(0);
    const events = await auditEventsOfRequest(requestId);
    expect(events.map((e) => e.type)).to.have.members(['mfa.reset', 'sessions.revoked_all']);
    const reset = events.find((e) => e.type === 'mfa.reset')!;
    expect(reset.metadata).to.deep.equal({ totp_removed: true, recovery_codes_removed: 10 });
    // The user signs in with the password alone and can enroll again.
    const login = await call(harness().server.auth, 'login', { email: target.email, password: target.password });
    expect(login.tokens?.accessToken).to.be.a('string').and.not.equal('');
    await call(harness().server.auth, 'enrollTotp', {}, bearer(login.tokens!.accessToken));
  });

  it('needs users:write', async () => {
    const target = await signedInUser();
    const plain = await signedInUser();
    await expectRpcError(
      call(identity(), 'resetUserMfa', { userId: target.user!.id }, bearer(plain.accessToken)),
      status.PERMISSION_DENIED,
    );
    const auditor = await signedInWithRole('auditor');
    await expectRpcError(
      call(identity(), 'resetUserMfa', { userId: target.user!.id }, bearer(auditor.accessToken)),
      status.PERMISSION_DENIED,
    );
  });

  it('validates user_id and answers NOT_FOUND for an unknown user', async () => {
    await expectRpcError(call(identity(), 'resetUserMfa', { userId: '' }, bearer(admin)), status.INVALID_ARGUMENT, {
      fields: ['user_id'],
    });
    await expectRpcError(call(identity(), 'resetUserMfa', { userId: 'nope' }, bearer(admin)), status.INVALID_ARGUMENT, {
      fields: ['user_id'],
    });
    await expectRpcError(
      call(identity(), 'resetUserMfa', { userId: '00000000-0000-7000-8000-000000000000' }, bearer(admin)),
      status.NOT_FOUND,
    );
  });

  it('answers for a user without a factor, ending their sessions all the same', async () => {
    const target = await signedInUser();
    const res = await call(identity(), 'resetUserMfa', { userId: target.user!.id }, bearer(admin));
    expect(res).to.deep.equal({ totpRemoved: false, sessionsRevoked: 1 });
  });
});
