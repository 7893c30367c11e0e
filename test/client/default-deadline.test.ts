import { status, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { createTesseraClient } from '../../src/client/index.js';
import { FakeIdentityServer } from '../helpers/fake-identity-server.js';
import { call } from '../helpers/server.js';

describe('createTesseraClient: the default deadline', () => {
  let fake: FakeIdentityServer;

  beforeEach(async () => {
    fake = await new FakeIdentityServer({ getUser: () => 'hang', updateUser: () => 'hang' }).start();
  });
  afterEach(() => fake.stop());

  it('ends a unary call the server never answers with DEADLINE_EXCEEDED after deadlineMs', async () => {
    const tessera = createTesseraClient({ address: fake.address, deadlineMs: 400 });
    const started = Date.now();
    let error: ServiceError | undefined;
    try {
      await call(tessera.identity, 'updateUser', { user: undefined, updateMask: undefined });
    } catch (err) {
      error = err as ServiceError;
    } finally {
      tessera.close();
    }
    const elapsed = Date.now() - started;
    expect(error?.code).to.equal(status.DEADLINE_EXCEEDED);
    expect(elapsed).to.be.at.least(390).and.below(2000);
    // The deadline travels to the server too (grpc-timeout), so it can stop work nobody waits for.
    expect(fake.calls[0].deadline - started).to.be.within(300, 500);
  });

  it("leaves a call's own deadline alone", async () => {
    const tessera = createTesseraClient({ address: fake.address, deadlineMs: 60_000 });
    const started = Date.now();
    try {
      await call(tessera.identity, 'getUser', { userId: '' }, undefined, { deadline: started + 300 });
    } catch (err) {
      expect((err as ServiceError).code).to.equal(status.DEADLINE_EXCEEDED);
    } finally {
      tessera.close();
    }
    expect(Date.now() - started).to.be.below(2000);
    expect(fake.calls[0].deadline - started).to.be.within(200, 400);
  });
});
