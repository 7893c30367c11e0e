import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
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
const auth = () => harness().server.auth;
const getProfile = (accessToken: string) => call(harness().server.profile, 'getProfile', { userId: '' }, bearer(accessToken));
const revoke = async (userId: string, credential: string) =>
  call(identity(), 'revokeUserSessions', { userId }, bearer(credential));

describe('IdentityService.RevokeUserSessions', () => {
  let admin: string;
  before(async () => {
    admin = await adminToken();
  });

  it('ends every session and pending link of the user, in one audited transaction; the account stays active', async () => {
    const target = await signedInUser();
    const other = await call(auth(), 'login', { email: target.email, password: target.password });
    await call(auth(), 'requestPasswordReset', { email: target.email });
    const { metadata, requestId } = traced(admin);

    const res = await call(identity(), 'revokeUserSessions', { userId: target.user!.id }, metadata);

    expect(res.sessionsRevoked).to.equal(2);
    for (const token of [target.accessToken, other.tokens!.accessToken]) {
      await expectRpcError(getProfile(token), status.UNAUTHENTICATED, { reason: 'SESSION_REVOKED' });
    }
    await expectRpcError(call(auth(), 'refreshToken', { refreshToken: target.refreshToken }), status.UNAUTHENTICATED);
    const pending = await sql<{ purpose: string }>(
      'select purpose from one_time_tokens where user_id = $1 and consumed_at is null',
      [target.user!.id],
    );
    expect(pending, 'pending one-time links').to.deep.equal([]);
    const events = await auditEventsOfRequest(requestId);
    expect(events.map((e) => e.type)).to.deep.equal(['sessions.revoked_all']);
    expect(events[0]).to.include({ subject_user_id: target.user!.id, actor_type: 'user' });
    const { not_before: notBefore, ...rest } = events[0].metadata as Record<string, unknown>;
    expect(rest).to.deep.equal({ reason: 'revoked_by_admin', sessions_revoked: 2 });
    expect(Date.parse(String(notBefore))).to.be.within(Date.now() - 10_000, Date.now() + 1000);
    // Not a suspension: the user signs in anew.
    const fresh = await call(auth(), 'login', { email: target.email, password: target.password });
    await getProfile(fresh.tokens!.accessToken);
  });

  it('answers 0 when the user has no open session, and still records the not-before time', async () => {
    const target = await signedInUser();
    await revoke(target.user!.id, admin);
    const { metadata, requestId } = traced(admin);

    const res = await call(identity(), 'revokeUserSessions', { userId: target.user!.id }, metadata);

    expect(res.sessionsRevoked).to.equal(0);
    const events = await auditEventsOfRequest(requestId);
    expect(events.map((e) => e.type)).to.deep.equal(['sessions.revoked_all']);
    expect(events[0].metadata).to.include({ reason: 'revoked_by_admin', sessions_revoked: 0 });
  });

  it('is open to service accounts (users:write), but not for an administrator’s sessions', async () => {
    const service = await serviceAccountKey(Role.ROLE_SERVICE);
    const target = await signedInUser();
    expect((await revoke(target.user!.id, service.apiKey)).sessionsRevoked).to.equal(1);

    const otherAdmin = await signedInWithRole('admin');
    await expectRpcError(revoke(otherAdmin.user!.id, service.apiKey), status.PERMISSION_DENIED, {
      reason: 'PERMISSION_DENIED',
    });
    await getProfile(otherAdmin.accessToken);
  });

  it('is refused to users and auditors: PERMISSION_DENIED', async () => {
    const target = await signedInUser();
    for (const role of ['user', 'auditor'] as const) {
      const caller = await signedInWithRole(role);
      await expectRpcError(revoke(target.user!.id, caller.accessToken), status.PERMISSION_DENIED);
    }
    await getProfile(target.accessToken);
  });

  it('names user_id when it is missing or not a UUID, and answers NOT_FOUND for an unknown user', async () => {
    await expectRpcError(revoke('', admin), status.INVALID_ARGUMENT, { fields: ['user_id'] });
    await expectRpcError(revoke('not-a-uuid', admin), status.INVALID_ARGUMENT, { fields: ['user_id'] });
    await expectRpcError(revoke(randomUUID(), admin), status.NOT_FOUND, { reason: 'USER_NOT_FOUND' });
  });
});
