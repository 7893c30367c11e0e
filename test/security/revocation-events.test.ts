import { expect } from 'chai';
import { decodeJwt } from 'jose';
import type { AuditEvent } from '../../src/gen/tessera/v1/audit_event.js';
import type { UpdateUserRequest } from '../../src/gen/tessera/v1/identity_service.js';
import { Role, type User } from '../../src/gen/tessera/v1/user.js';
import { openStream } from '../helpers/audit.js';
import { adminToken, signedInUser } from '../helpers/fixtures.js';
import { startMailTestBed, tokenFromMail, type MailTestBed } from '../helpers/mail.js';
import { bearer, call } from '../helpers/server.js';

const NEW_PASSWORD = 'a fresh start passphrase';

/** A session as a backend sees it: the sid and iat of an access token it holds. */
interface SeenSession {
  sid: string;
  iat: number;
}

const seen = (accessToken: string): SeenSession => {
  const claims = decodeJwt(accessToken);
  return { sid: String(claims.sid), iat: Number(claims.iat) };
};

/** Epoch seconds of a not_before value: epoch seconds or milliseconds, or an RFC 3339 string. */
function epochSeconds(value: unknown): number {
  if (typeof value === 'number') return value > 1e11 ? value / 1000 : value;
  if (typeof value === 'string') return /^\d+(\.\d+)?$/.test(value) ? epochSeconds(Number(value)) : Date.parse(value) / 1000;
  return NaN;
}

/**
 * Whether `event` tells a backend, without another lookup, that tokens of
 * `session` are dead: a session.revoked naming the session (session_id in its
 * details or metadata) with its cause, or a sessions.revoked_all whose
 * not_before is at or after the token's iat.
 */
function covers(event: AuditEvent, session: SeenSession): boolean {
  const metadata = (event.metadata ?? {}) as Record<string, unknown>;
  const typed = event.details?.$case === 'session' ? event.details.value : undefined;
  if (event.typeName === 'session.revoked') {
    const named = typed?.sessionId === session.sid || metadata.session_id === session.sid;
    return named && Boolean(typed?.reason || metadata.reason);
  }
  if (event.typeName === 'sessions.revoked_all') return epochSeconds(metadata.not_before) >= session.iat;
  return false;
}

/**
 * Attack 7 of issue 9: a backend that verifies access tokens locally follows
 * the audit stream to learn when access ends. Today a password reset, a
 * password change and a role change leave nothing on the stream that names
 * the sessions or a not-before time, so their tokens live until exp.
 */
describe('Attack: backends cannot see that sessions ended', function () {
  this.timeout(30_000);
  let bed: MailTestBed;
  before(async () => {
    bed = await startMailTestBed();
  });
  after(() => bed.close());

  const auth = () => bed.server.auth;

  /** A user with two sessions, each as a backend holding its access token sees it. */
  async function userWithTwoSessions() {
    const user = await signedInUser({ server: bed.server });
    const second = await call(auth(), 'login', { email: user.email, password: user.password });
    return { user, sessions: [seen(user.accessToken), seen(second.tokens!.accessToken)] };
  }

  /**
   * Follows the stream about `userId` while `act` runs, until the event
   * `marker` of the action has arrived and every session in `ended` is
   * covered (or 3 s after the marker); then asserts the coverage.
   */
  async function expectRevocationsFollowed(userId: string, marker: string, ended: SeenSession[], act: () => Promise<unknown>) {
    const filter = { subjectUserId: userId, actorId: '', types: [], startTime: undefined, endTime: undefined };
    const { stream, client } = await openStream({ filter }, { address: bed.server.address });
    try {
      await act();
      await stream.until(() => stream.events.some((e) => e.typeName === marker), 10_000, marker);
      const allCovered = () => ended.every((s) => stream.events.some((e) => covers(e, s)));
      await stream.until(allCovered, 3000, 'revocation events').catch(() => undefined);
      const received = stream.events.map((e) => ({ type: e.typeName, details: e.details, metadata: e.metadata }));
      for (const session of ended) {
        expect(
          stream.events.some((e) => covers(e, session)),
          `no event covers session ${session.sid} (iat ${session.iat}); the stream carried ${JSON.stringify(received)}`,
        ).to.equal(true);
      }
    } finally {
      stream.cancel();
      client.close();
    }
  }

  it('ResetPassword: every ended session is named, or covered by a not-before time', async () => {
    const { user, sessions } = await userWithTwoSessions();
    await call(auth(), 'requestPasswordReset', { email: user.email });
    const token = tokenFromMail(await bed.smtp.waitFor(user.email));

    await expectRevocationsFollowed(user.user!.id, 'password_reset.completed', sessions, () =>
      call(auth(), 'resetPassword', { token, newPassword: NEW_PASSWORD }),
    );
  });

  it('ChangePassword: the other sessions it ends are named, or covered by a not-before time', async () => {
    const { user, sessions } = await userWithTwoSessions();

    await expectRevocationsFollowed(user.user!.id, 'password.changed', [sessions[1]], () =>
      call(auth(), 'changePassword', { currentPassword: user.password, newPassword: NEW_PASSWORD }, bearer(user.accessToken)),
    );
  });

  it('SuspendUser: every session is named with its cause, or covered by a not-before time', async () => {
    const { user, sessions } = await userWithTwoSessions();
    const admin = bearer(await adminToken(bed.server));

    await expectRevocationsFollowed(user.user!.id, 'user.suspended', sessions, () =>
      call(bed.server.identity, 'suspendUser', { userId: user.user!.id, reason: 'fraud' }, admin),
    );
  });

  it('DeleteUser: every session is named with its cause, or covered by a not-before time', async () => {
    const { user, sessions } = await userWithTwoSessions();
    const admin = bearer(await adminToken(bed.server));

    await expectRevocationsFollowed(user.user!.id, 'user.deleted', sessions, () =>
      call(bed.server.identity, 'deleteUser', { userId: user.user!.id }, admin),
    );
  });

  it('UpdateUser role change: tokens carrying the old role are named, or covered by a not-before time', async () => {
    const { user, sessions } = await userWithTwoSessions();
    const admin = bearer(await adminToken(bed.server));
    const request: UpdateUserRequest = {
      user: { id: user.user!.id, email: '', emailVerified: false, role: Role.ROLE_AUDITOR, status: 0 } as User,
      updateMask: ['role'],
    };

    await expectRevocationsFollowed(user.user!.id, 'user.role_changed', sessions, () =>
      call(bed.server.identity, 'updateUser', request, admin),
    );
  });
});
