import { status, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { callUnary, createTesseraClient, errorDetails, Role } from '../../src/client/index.js';
import { registerUser, serviceAccountKey, signedInUser } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';

describe('createTesseraClient against a real Tessera', () => {
  it("reads the signed-in user's profile with their access token", async () => {
    const user = await signedInUser({ fullName: 'Grace Hopper' });
    const tessera = createTesseraClient({ address: harness().server.address, accessToken: user.accessToken });
    try {
      const { profile } = await callUnary(tessera.profile, 'getProfile', { userId: '' });
      expect(profile).to.include({ userId: user.user!.id, fullName: 'Grace Hopper' });
    } finally {
      tessera.close();
    }
  });

  it('reads users as a backend with a service account API key', async () => {
    const { apiKey } = await serviceAccountKey(Role.ROLE_SERVICE);
    const { user } = await registerUser();
    const tessera = createTesseraClient({ address: harness().server.address, apiKey });
    try {
      const res = await callUnary(tessera.identity, 'getUser', { userId: user.id });
      expect(res.user?.email).to.equal(user.email);
    } finally {
      tessera.close();
    }
  });

  it('decodes the ErrorInfo of a failed call with errorDetails', async () => {
    const { email } = await registerUser();
    const tessera = createTesseraClient({ address: harness().server.address });
    let error: ServiceError | undefined;
    try {
      await callUnary(tessera.auth, 'login', { email, password: 'certainly not the password' });
    } catch (err) {
      error = err as ServiceError;
    } finally {
      tessera.close();
    }
    expect(error?.code).to.equal(status.UNAUTHENTICATED);
    expect(errorDetails(error).errorInfo).to.include({ reason: 'INVALID_CREDENTIALS', domain: 'tessera.dev' });
  });

  it('decodes the BadRequest of an invalid request', async () => {
    const tessera = createTesseraClient({ address: harness().server.address });
    try {
      await callUnary(tessera.auth, 'register', { email: 'not-an-address', password: 'x', fullName: '' });
      expect.fail('Register accepted an invalid request');
    } catch (err) {
      expect((err as ServiceError).code).to.equal(status.INVALID_ARGUMENT);
      const fields = errorDetails(err).badRequest?.fieldViolations.map((v) => v.field);
      expect(fields).to.include.members(['email', 'password']);
    } finally {
      tessera.close();
    }
  });

  it('decodes nothing from an error without details', () => {
    expect(errorDetails(new Error('plain'))).to.deep.equal({});
    expect(errorDetails(undefined)).to.deep.equal({});
  });
});
