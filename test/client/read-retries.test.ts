import { status, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { createTesseraClient, IDEMPOTENT_READS } from '../../src/client/index.js';
import { IdentityServiceService } from '../../src/gen/tessera/v1/identity_service.js';
import { FakeIdentityServer, OK_USER, type FakeBehaviour } from '../helpers/fake-identity-server.js';
import { call } from '../helpers/server.js';

const FAIL_FIRST: FakeBehaviour = (attempt) => (attempt === 1 ? { fail: status.UNAVAILABLE } : OK_USER);
const FAST_RETRY = { maxAttempts: 3, initialBackoffMs: 10, maxBackoffMs: 50 };

async function failureOf(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('expected the call to fail');
}

describe('createTesseraClient: retries of idempotent reads', () => {
  let fake: FakeIdentityServer;

  afterEach(() => fake.stop());

  it('retries GetUser after UNAVAILABLE and returns the second answer, with the credential on both attempts', async () => {
    fake = await new FakeIdentityServer({ getUser: FAIL_FIRST, updateUser: FAIL_FIRST }).start();
    const tessera = createTesseraClient({ address: fake.address, apiKey: 'tsk_retry', retry: FAST_RETRY });
    try {
      const res = await call(tessera.identity, 'getUser', { userId: 'u-1' });
      expect(res.user?.email).to.equal('fake@tessera.test');
    } finally {
      tessera.close();
    }
    expect(fake.callsOf('getUser').map((c) => c.authorization)).to.deep.equal(['Bearer tsk_retry', 'Bearer tsk_retry']);
  });

  it('never retries a write: UpdateUser fails with the UNAVAILABLE of its only attempt', async () => {
    fake = await new FakeIdentityServer({ getUser: FAIL_FIRST, updateUser: FAIL_FIRST }).start();
    const tessera = createTesseraClient({ address: fake.address, retry: FAST_RETRY });
    try {
      const error = await failureOf(call(tessera.identity, 'updateUser', { user: undefined, updateMask: undefined }));
      expect(error.code).to.equal(status.UNAVAILABLE);
    } finally {
      tessera.close();
    }
    expect(fake.callsOf('updateUser')).to.have.length(1);
  });

  it('gives up after maxAttempts and returns the last UNAVAILABLE', async () => {
    fake = await new FakeIdentityServer({ getUser: () => ({ fail: status.UNAVAILABLE }), updateUser: () => OK_USER }).start();
    const tessera = createTesseraClient({ address: fake.address, retry: FAST_RETRY });
    try {
      const error = await failureOf(call(tessera.identity, 'getUser', { userId: '' }));
      expect(error.code).to.equal(status.UNAVAILABLE);
    } finally {
      tessera.close();
    }
    expect(fake.callsOf('getUser')).to.have.length(FAST_RETRY.maxAttempts);
  });

  it('does not retry other codes (a NOT_FOUND is an answer)', async () => {
    fake = await new FakeIdentityServer({ getUser: () => ({ fail: status.NOT_FOUND }), updateUser: () => OK_USER }).start();
    const tessera = createTesseraClient({ address: fake.address, retry: FAST_RETRY });
    try {
      expect((await failureOf(call(tessera.identity, 'getUser', { userId: '' }))).code).to.equal(status.NOT_FOUND);
    } finally {
      tessera.close();
    }
    expect(fake.callsOf('getUser')).to.have.length(1);
  });

  it('retries each of 20 concurrent reads on its own', async () => {
    const seen = new Set<string>();
    // The first attempt of each request fails.
    fake = await new FakeIdentityServer({
      getUser: (_attempt, request) =>
        seen.has(request.userId!) ? OK_USER : (seen.add(request.userId!), { fail: status.UNAVAILABLE }),
      updateUser: () => OK_USER,
    }).start();
    const tessera = createTesseraClient({ address: fake.address, retry: FAST_RETRY });
    try {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => call(tessera.identity, 'getUser', { userId: `u-${i}` })),
      );
      expect(results.every((r) => r.user?.id === 'u-1')).to.equal(true);
    } finally {
      tessera.close();
    }
    expect(fake.callsOf('getUser')).to.have.length(40);
  });

  it('turns retries off with retry: false', async () => {
    fake = await new FakeIdentityServer({ getUser: FAIL_FIRST, updateUser: () => OK_USER }).start();
    const tessera = createTesseraClient({ address: fake.address, retry: false });
    try {
      expect((await failureOf(call(tessera.identity, 'getUser', { userId: '' }))).code).to.equal(status.UNAVAILABLE);
    } finally {
      tessera.close();
    }
    expect(fake.callsOf('getUser')).to.have.length(1);
  });

  it('names only methods that exist and read (no Create, Update, Delete, Revoke or Rotate)', () => {
    const identityMethods = Object.values(IdentityServiceService).map((m) => m.path.split('/')[2]);
    expect(identityMethods).to.include.members([...IDEMPOTENT_READS['tessera.v1.IdentityService']]);
    const all = Object.values(IDEMPOTENT_READS).flat();
    expect(all.filter((m) => /^(Create|Update|Delete|Revoke|Rotate|Register|Login|Logout)/.test(m))).to.deep.equal([]);
  });
});
