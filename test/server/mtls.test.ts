import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthServiceClient } from '../../src/gen/tessera/v1/auth_service.js';
import { IdentityServiceClient } from '../../src/gen/tessera/v1/identity_service.js';
import { Role } from '../../src/gen/tessera/v1/user.js';
import { createCertificateAuthority, issueCertificate, type IssuedCertificate } from '../helpers/certificates.js';
import { auditEventsOfRequest, uniqueEmail } from '../helpers/fixtures.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, BOOTSTRAP_ADMIN, call, startSiblingServer, type TestServer } from '../helpers/server.js';

describe('mTLS: client certificates and certificate-bound service accounts', () => {
  let dir: string;
  let serverCa: IssuedCertificate;
  let clientCa: IssuedCertificate;
  let server: TestServer;
  let admin: { auth: AuthServiceClient; identity: IdentityServiceClient; token: string };
  const identityUri = `spiffe://example.org/billing-${randomBytes(4).toString('hex')}`;

  /** Credentials trusting the server's CA, presenting `client` (or no certificate). */
  const tlsAs = (client?: IssuedCertificate) => credentials.createSsl(serverCa.cert, client?.key, client?.cert);
  const clients: { close(): void }[] = [];
  const identityClient = (client?: IssuedCertificate) => {
    const c = new IdentityServiceClient(server.address, tlsAs(client));
    clients.push(c);
    return c;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-mtls-'));
    serverCa = createCertificateAuthority(dir, 'server-ca');
    clientCa = createCertificateAuthority(dir, 'client-ca');
    const serverCert = issueCertificate(serverCa, dir, 'server');
    server = await startSiblingServer({
      TLS_CERT_FILE: serverCert.certFile,
      TLS_KEY_FILE: serverCert.keyFile,
      TLS_CLIENT_CA_FILE: clientCa.certFile,
    });
    // The administrator's tool has a certificate too (unbound: it signs in with a token).
    const toolCert = issueCertificate(clientCa, dir, 'admin-tool');
    const auth = new AuthServiceClient(server.address, tlsAs(toolCert));
    clients.push(auth);
    const token = (await call(auth, 'login', BOOTSTRAP_ADMIN)).tokens!.accessToken;
    admin = { auth, identity: identityClient(toolCert), token };
  });
  after(async () => {
    for (const c of clients) c.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const refusedAtHandshake = async (client: IdentityServiceClient) => {
    const err = await call(client, 'getUser', { userId: '' }, new Metadata(), { deadline: Date.now() + 3000 }).then(
      () => undefined,
      (e: ServiceError) => e,
    );
    expect(err?.code).to.be.oneOf([status.UNAVAILABLE, status.DEADLINE_EXCEEDED]);
  };

  it('refuses a client without a certificate at the handshake', async () => {
    await refusedAtHandshake(identityClient());
  });

  it('refuses a client whose certificate another CA signed', async () => {
    const rogueCa = createCertificateAuthority(dir, 'rogue-ca');
    await refusedAtHandshake(identityClient(issueCertificate(rogueCa, dir, 'rogue', { uri: identityUri })));
  });

  it('lets a bound certificate act as its service account without an API key, audited as that account', async () => {
    const created = await call(
      admin.identity,
      'createServiceAccount',
      { name: `billing-${randomBytes(4).toString('hex')}`, role: Role.ROLE_SERVICE, certificateIdentity: identityUri },
      bearer(admin.token),
    );
    expect(created.serviceAccount!.certificateIdentity).to.equal(identityUri);
    const billing = identityClient(issueCertificate(clientCa, dir, 'billing', { uri: identityUri }));

    const target = await call(admin.auth, 'register', {
      email: uniqueEmail('mtls'),
      password: 'a fine passphrase',
      fullName: 'T',
    });
    const requestId = randomUUID();
    const md = new Metadata();
    md.set('x-request-id', requestId);
    await call(billing, 'suspendUser', { userId: target.user!.id, reason: 'unpaid invoices' }, md);

    const events = await auditEventsOfRequest(requestId, server);
    expect(events.map((e) => [e.type, e.actor_type, e.actor_id])).to.deep.equal([
      ['user.suspended', 'service_account', created.serviceAccount!.id],
      ['sessions.revoked_all', 'service_account', created.serviceAccount!.id],
    ]);
    // Its role bounds it like any service account: no audit trail for the service role.
    await expectRpcError(call(billing, 'listServiceAccounts', { pageSize: 0, pageToken: '' }), status.PERMISSION_DENIED);
  });

  it('refuses a certificate of the CA that no live service account is bound to', async () => {
    const stranger = identityClient(issueCertificate(clientCa, dir, 'stranger', { uri: 'spiffe://example.org/nobody' }));
    await expectRpcError(call(stranger, 'getUser', { userId: '' }), status.UNAUTHENTICATED, {
      reason: 'UNKNOWN_CLIENT_CERTIFICATE',
    });
    // Public RPCs need no identity: the CA's certificate is enough to connect.
    const auth = new AuthServiceClient(server.address, tlsAs(issueCertificate(clientCa, dir, 'anyone')));
    clients.push(auth);
    expect((await call(auth, 'getJwks', {})).keys).to.not.be.empty;
  });

  it('binds a certificate identity to one live account only, and checks its shape', async () => {
    const create = (certificateIdentity: string) =>
      call(
        admin.identity,
        'createServiceAccount',
        { name: `svc-${randomBytes(4).toString('hex')}`, role: Role.ROLE_SERVICE, certificateIdentity },
        bearer(admin.token),
      );
    await expectRpcError(create(identityUri), status.ALREADY_EXISTS, { reason: 'CERTIFICATE_IDENTITY_TAKEN' });
    await expectRpcError(create('not a uri'), status.INVALID_ARGUMENT, { fields: ['certificate_identity'] });
    await expectRpcError(create('spiffe://example.org/a,b'), status.INVALID_ARGUMENT, { fields: ['certificate_identity'] });
  });
});
