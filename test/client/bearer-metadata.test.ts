import { Metadata } from '@grpc/grpc-js';
import { expect } from 'chai';
import { createTesseraClient } from '../../src/client/index.js';
import { FakeIdentityServer, OK_USER } from '../helpers/fake-identity-server.js';
import { call } from '../helpers/server.js';

describe('createTesseraClient: the bearer credential', () => {
  let fake: FakeIdentityServer;

  beforeEach(async () => {
    fake = await new FakeIdentityServer({ getUser: () => OK_USER, updateUser: () => OK_USER }).start();
  });
  afterEach(() => fake.stop());

  it('sends an API key as `authorization: Bearer` on every call', async () => {
    const tessera = createTesseraClient({ address: fake.address, apiKey: 'tsk_backend-key' });
    try {
      await call(tessera.identity, 'getUser', { userId: 'u-1' });
      await call(tessera.identity, 'updateUser', { user: undefined, updateMask: undefined });
    } finally {
      tessera.close();
    }
    expect(fake.calls.map((c) => c.authorization)).to.deep.equal(['Bearer tsk_backend-key', 'Bearer tsk_backend-key']);
  });

  it('reads an access token function at each call, so a refreshed token is used from the next call on', async () => {
    let token = 'eyJ.first';
    const tessera = createTesseraClient({ address: fake.address, accessToken: () => token });
    try {
      await call(tessera.identity, 'getUser', { userId: '' });
      token = 'eyJ.second';
      await call(tessera.identity, 'getUser', { userId: '' });
    } finally {
      tessera.close();
    }
    expect(fake.calls.map((c) => c.authorization)).to.deep.equal(['Bearer eyJ.first', 'Bearer eyJ.second']);
  });

  it("keeps a call's own authorization (a backend acting for one user) instead of the client's", async () => {
    const tessera = createTesseraClient({ address: fake.address, apiKey: 'tsk_backend-key' });
    const metadata = new Metadata();
    metadata.set('authorization', 'Bearer eyJ.user-token');
    try {
      await call(tessera.identity, 'getUser', { userId: '' }, metadata);
    } finally {
      tessera.close();
    }
    expect(fake.calls[0].authorization).to.equal('Bearer eyJ.user-token');
  });

  it('sends no authorization without a credential (Register, Login, GetJwks need none)', async () => {
    const tessera = createTesseraClient({ address: fake.address });
    try {
      await call(tessera.identity, 'getUser', { userId: '' });
    } finally {
      tessera.close();
    }
    expect(fake.calls[0].authorization).to.equal(undefined);
  });

  it('refuses an API key and an access token together', () => {
    expect(() => createTesseraClient({ address: fake.address, apiKey: 'tsk_a', accessToken: 'eyJ.b' })).to.throw(
      /either apiKey or accessToken/,
    );
  });
});
