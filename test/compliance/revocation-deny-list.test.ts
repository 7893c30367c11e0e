import { expect } from 'chai';
import { decodeJwt } from 'jose';
import { AuditEventType, type AuditEvent } from '../../src/gen/tessera/v1/audit_event.js';
import type { UpdateUserRequest } from '../../src/gen/tessera/v1/identity_service.js';
import { Role, type User } from '../../src/gen/tessera/v1/user.js';
import { openStream, type CollectedStream } from '../helpers/audit.js';
import { adminToken, signedInUser } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { bearer, call } from '../helpers/server.js';

interface Claims {
  sub: string;
  sid: string;
  iat: number;
}
const claimsOf = (accessToken: string): Claims => {
  const c = decodeJwt(accessToken);
  return { sub: String(c.sub), sid: String(c.sid), iat: Number(c.iat) };
};

/** The README's deny-list recipe, fed by the stream's events. */
class DenyList {
  private readonly revokedSessions = new Set<string>();
  private readonly notBefore = new Map<string, { at: number; kept?: string }>();

  apply(event: AuditEvent): void {
    if (event.details?.$case === 'session') this.revokedSessions.add(event.details.value.sessionId);
    else if (event.typeName === 'sessions.revoked_all') {
      const metadata = event.metadata as { not_before: string; kept_session_id?: string };
      this.notBefore.set(event.subjectUserId, { at: Date.parse(metadata.not_before) / 1000, kept: metadata.kept_session_id });
    }
  }

  denied(claims: Claims): boolean {
    const cut = this.notBefore.get(claims.sub);
    return this.revokedSessions.has(claims.sid) || (cut !== undefined && claims.iat < cut.at && claims.sid !== cut.kept);
  }
}

const REVOCATION_TYPES = [
  AuditEventType.AUDIT_EVENT_TYPE_SESSION_REVOKED,
  AuditEventType.AUDIT_EVENT_TYPE_SESSION_LOGGED_OUT,
  AuditEventType.AUDIT_EVENT_TYPE_REFRESH_TOKEN_REUSE_DETECTED,
  AuditEventType.AUDIT_EVENT_TYPE_SESSIONS_REVOKED_ALL,
];

/**
 * A backend that verifies access tokens locally follows the revocation
 * events as the README says, through each way a session ends, and then
 * refuses exactly the tokens whose access ended: the kept session and a
 * later sign-in still pass.
 */
describe('The deny-list recipe, following the stream through each cause', function () {
  this.timeout(30_000);
  afterEach(() => harness().server.clock.reset());

  const auth = () => harness().server.auth;
  const identity = () => harness().server.identity;

  /**
   * A user with two sessions (`a`, the caller, and `b`); runs `act`, follows
   * the stream until `b` is denied (or 3 s), then signs in again a second
   * later. Returns the deny-list's verdict on each.
   */
  async function follow(act: (user: Awaited<ReturnType<typeof signedInUser>>, b: string) => Promise<unknown>) {
    const user = await signedInUser();
    const second = await call(auth(), 'login', { email: user.email, password: user.password });
    const a = claimsOf(user.accessToken);
    const b = claimsOf(second.tokens!.accessToken);
    const filter = {
      subjectUserId: user.user!.id,
      actorId: '',
      types: REVOCATION_TYPES,
      startTime: undefined,
      endTime: undefined,
    };
    const { stream, client } = await openStream({ filter });
    const denyList = new DenyList();
    try {
      await act(user, second.tokens!.refreshToken);
      await waitUntilDenied(stream, denyList, b);
      harness().server.clock.advance(2);
      const later = await call(auth(), 'login', { email: user.email, password: user.password });
      return { a: denyList.denied(a), b: denyList.denied(b), later: denyList.denied(claimsOf(later.tokens!.accessToken)) };
    } finally {
      stream.cancel();
      client.close();
    }
  }

  async function waitUntilDenied(stream: CollectedStream, denyList: DenyList, claims: Claims): Promise<void> {
    let applied = 0;
    const caughtUp = () => {
      for (; applied < stream.events.length; applied++) denyList.apply(stream.events[applied]);
      return denyList.denied(claims);
    };
    await stream.until(caughtUp, 3000, 'the revocation').catch(() => undefined);
  }

  const asAdmin = async () => bearer(await adminToken());

  it('Logout (session.logged_out): that session only', async () => {
    const verdict = await follow((_, refreshToken) => call(auth(), 'logout', { refreshToken }));
    expect(verdict).to.deep.equal({ a: false, b: true, later: false });
  });

  it('RevokeSession (session.revoked): that session only', async () => {
    const verdict = await follow(async (user) => {
      const { sessions } = await call(auth(), 'listSessions', { pageSize: 0, pageToken: '' }, bearer(user.accessToken));
      const other = sessions.find((s) => !s.current)!;
      await call(auth(), 'revokeSession', { sessionId: other.id }, bearer(user.accessToken));
    });
    expect(verdict).to.deep.equal({ a: false, b: true, later: false });
  });

  it('RevokeAllSessions with keep_current (sessions.revoked_all, kept_session_id)', async () => {
    const verdict = await follow((user) => call(auth(), 'revokeAllSessions', { keepCurrent: true }, bearer(user.accessToken)));
    expect(verdict).to.deep.equal({ a: false, b: true, later: false });
  });

  it('ChangePassword (sessions.revoked_all keeping the caller)', async () => {
    const verdict = await follow((user) =>
      call(
        auth(),
        'changePassword',
        { currentPassword: user.password, newPassword: 'a deny-list passphrase' },
        bearer(user.accessToken),
      ).then(() => (user.password = 'a deny-list passphrase')),
    );
    expect(verdict).to.deep.equal({ a: false, b: true, later: false });
  });

  it('RevokeUserSessions (sessions.revoked_all): every session', async () => {
    const verdict = await follow(async (user) =>
      call(identity(), 'revokeUserSessions', { userId: user.user!.id }, await asAdmin()),
    );
    expect(verdict).to.deep.equal({ a: true, b: true, later: false });
  });

  it('a role change (sessions.revoked_all): every session', async () => {
    const verdict = await follow(async (user) => {
      const request: UpdateUserRequest = {
        user: { id: user.user!.id, email: '', emailVerified: false, role: Role.ROLE_AUDITOR, status: 0 } as User,
        updateMask: ['role'],
      };
      await call(identity(), 'updateUser', request, await asAdmin());
    });
    expect(verdict).to.deep.equal({ a: true, b: true, later: false });
  });
});
