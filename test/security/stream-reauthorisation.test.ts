import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import type { UpdateUserRequest } from '../../src/gen/tessera/v1/identity_service.js';
import { Role, type User } from '../../src/gen/tessera/v1/user.js';
import { openStream, type CollectedStream } from '../helpers/audit.js';
import { adminToken, registerUser, signedInWithRole } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { bearer, call, startSiblingServer, type TestServer } from '../helpers/server.js';

/** The shared server's ACCESS_TOKEN_TTL_SECONDS (the default). */
const ACCESS_TTL_SECONDS = 900;

type Auditor = Awaited<ReturnType<typeof signedInWithRole>>;

/**
 * Attack 6 of issue 9: an auditor's StreamAuditEvents, authorised once when
 * it opened, keeps delivering IPs and user agents after the auditor lost
 * access. The stream must end before it delivers any event written after.
 */
describe('Attack: an audit stream that outlives its caller’s access', function () {
  this.timeout(30_000);
  afterEach(() => harness().server.clock.reset());

  const shared = () => harness().server;

  /**
   * Opens a live stream as a fresh auditor (on `streamOn`) about a fresh user,
   * checks it delivers, takes the auditor's access away with `revoke`, writes
   * one more event about the user, and returns what the stream did.
   */
  async function streamAcross(revoke: (auditor: Auditor) => Promise<void>, streamOn: TestServer = shared()) {
    const auditor = await signedInWithRole('auditor');
    const subject = await registerUser();
    const signIn = () => call(shared().auth, 'login', { email: subject.email, password: subject.password });
    const filter = { subjectUserId: subject.user.id, actorId: '', types: [], startTime: undefined, endTime: undefined };
    const { stream, client } = await openStream({ filter }, { token: auditor.accessToken, address: streamOn.address });
    try {
      await signIn();
      await stream.waitForCount(1);

      await revoke(auditor);
      await signIn();

      await stream.until(() => stream.error !== undefined || stream.events.length > 1, 10_000, 'an end or an event');
      return stream;
    } finally {
      stream.cancel();
      client.close();
    }
  }

  function expectEndedBeforeDelivery(stream: CollectedStream): void {
    expect(
      stream.events.map((e) => e.typeName),
      'events delivered after the auditor lost access',
    ).to.deep.equal(['login.succeeded']);
    expect(stream.error ? status[stream.error.code] : 'still open').to.be.oneOf(['PERMISSION_DENIED', 'UNAUTHENTICATED']);
  }

  const asAdmin = async () => bearer(await adminToken());

  it('ends when the auditor is suspended', async () => {
    const stream = await streamAcross(async (auditor) => {
      await call(shared().identity, 'suspendUser', { userId: auditor.user!.id, reason: 'left the company' }, await asAdmin());
    });
    expectEndedBeforeDelivery(stream);
  });

  it('ends when the auditor is demoted to user', async () => {
    const stream = await streamAcross(async (auditor) => {
      const request: UpdateUserRequest = {
        user: { id: auditor.user!.id, email: '', emailVerified: false, role: Role.ROLE_USER, status: 0 } as User,
        updateMask: ['role'],
      };
      await call(shared().identity, 'updateUser', request, await asAdmin());
    });
    expectEndedBeforeDelivery(stream);
  });

  it("ends when the auditor's session is revoked", async () => {
    const stream = await streamAcross(async (auditor) => {
      await call(shared().auth, 'logout', { refreshToken: auditor.refreshToken });
    });
    expectEndedBeforeDelivery(stream);
  });

  it("ends when the auditor's access token expires", async () => {
    const stream = await streamAcross(async () => {
      shared().clock.advance(ACCESS_TTL_SECONDS + 1);
    });
    expectEndedBeforeDelivery(stream);
  });

  it('ends on another instance when the auditor is suspended through this one', async () => {
    const sibling = await startSiblingServer();
    try {
      const stream = await streamAcross(async (auditor) => {
        await call(shared().identity, 'suspendUser', { userId: auditor.user!.id, reason: 'left the company' }, await asAdmin());
      }, sibling);
      expectEndedBeforeDelivery(stream);
    } finally {
      await sibling.close();
    }
  });
});
