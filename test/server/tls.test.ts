import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { AuthServiceClient } from '../../src/gen/tessera/v1/auth_service.js';
import { ComplianceServiceClient } from '../../src/gen/tessera/v1/compliance_service.js';
import { CollectedStream, writeEvents } from '../helpers/audit.js';
import { createCertificateAuthority, issueCertificate, replaceFile, type IssuedCertificate } from '../helpers/certificates.js';
import { bearer, BOOTSTRAP_ADMIN, call, startSiblingServer, type TestServer } from '../helpers/server.js';

/** The serial number of the certificate a new TLS connection to `port` is served. */
function servedSerial(port: number, ca: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca, ALPNProtocols: ['h2', 'http/1.1'] }, () => {
      const serial = socket.getPeerCertificate().serialNumber;
      socket.end();
      resolve(serial);
    });
    socket.once('error', reject);
  });
}

/** GET over HTTPS trusting only `ca`. */
function httpsGet(url: string, ca: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { ca }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    }).once('error', reject);
  });
}

const serialOf = (cert: IssuedCertificate) => new X509Certificate(cert.cert).serialNumber;

describe('TLS: gRPC, ops and public HTTP over TLS with certificate reload', () => {
  let dir: string;
  let ca: IssuedCertificate;
  let first: IssuedCertificate;
  let server: TestServer;
  let auth: AuthServiceClient;
  const certFile = () => join(dir, 'server.crt');
  const keyFile = () => join(dir, 'server.key');

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-tls-'));
    ca = createCertificateAuthority(dir, 'test-ca');
    first = issueCertificate(ca, dir, 'server');
    copyFileSync(first.certFile, certFile());
    copyFileSync(first.keyFile, keyFile());
    server = await startSiblingServer({ TLS_CERT_FILE: certFile(), TLS_KEY_FILE: keyFile(), PUBLIC_HTTP_PORT: '0' });
    auth = new AuthServiceClient(server.address, credentials.createSsl(ca.cert));
  });
  after(async () => {
    auth?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves gRPC to a client that trusts the CA', async () => {
    const jwks = await call(auth, 'getJwks', {});
    expect(jwks.keys.length).to.be.greaterThan(0);
    expect(await servedSerial(server.tessera.grpcPort, ca.cert)).to.equal(serialOf(first));
  });

  it('refuses a plaintext client', async () => {
    const plaintext = new AuthServiceClient(server.address, credentials.createInsecure());
    try {
      const err = await call(plaintext, 'getJwks', {}, new Metadata(), { deadline: Date.now() + 2000 }).then(
        () => undefined,
        (e: ServiceError) => e,
      );
      expect(err?.code).to.be.oneOf([status.UNAVAILABLE, status.DEADLINE_EXCEEDED]);
    } finally {
      plaintext.close();
    }
  });

  it('serves the ops port and the public pages over TLS too, and mails https links', async () => {
    const ops = await httpsGet(`https://127.0.0.1:${server.tessera.httpPort}/healthz`, ca.cert);
    expect(ops).to.deep.equal({ status: 200, body: 'ok\n' });
    expect(server.tessera.publicBaseUrl).to.equal(`https://127.0.0.1:${server.tessera.publicHttpPort}`);
    const page = await httpsGet(`${server.tessera.publicBaseUrl}/reset-password?token=nonsense`, ca.cert);
    expect(page.status).to.equal(404);
    expect(page.body).to.contain('This link is not valid');
  });

  it('serves a replaced certificate to new connections, while a stream on an old connection keeps going', async function () {
    this.timeout(20_000);
    const compliance = new ComplianceServiceClient(server.address, credentials.createSsl(ca.cert));
    const token = (await call(auth, 'login', BOOTSTRAP_ADMIN)).tokens!.accessToken;
    const stream = new CollectedStream(compliance, { afterEventId: undefined, filter: undefined }, bearer(token));
    try {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const subject = (await call(auth, 'login', BOOTSTRAP_ADMIN)).user!.id;
      const seen = () => stream.events.filter((e) => e.subjectUserId === subject).length;
      await writeEvents(server.tessera, subject, 1);
      await stream.until(() => seen() >= 1, 5000, 'the event before the reload');

      const second = issueCertificate(ca, dir, 'server');
      replaceFile(keyFile(), second.key);
      replaceFile(certFile(), second.cert);
      const deadline = Date.now() + 5000;
      while ((await servedSerial(server.tessera.grpcPort, ca.cert)) !== serialOf(second)) {
        if (Date.now() > deadline) throw new Error('the new certificate was not served within 5 s');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(await servedSerial(server.tessera.httpPort, ca.cert)).to.equal(serialOf(second));
      expect(server.logs.text()).to.contain('TLS certificate reloaded (files changed)');

      await writeEvents(server.tessera, subject, 1);
      await stream.until(() => seen() >= 2, 5000, 'the event after the reload on the old connection');
      expect(stream.error).to.equal(undefined);
      expect((await call(auth, 'getJwks', {})).keys.length).to.be.greaterThan(0);
    } finally {
      stream.cancel();
      compliance.close();
    }
  });

  it('keeps serving the current certificate when the new files do not fit together', async () => {
    const current = await servedSerial(server.tessera.grpcPort, ca.cert);
    const stranger = issueCertificate(ca, dir, 'stranger');
    const logged = server.logs.lines.length;
    replaceFile(keyFile(), stranger.key);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(() => server.tessera.reloadCertificates()).to.throw(/does not belong to the certificate/);
    expect(server.logs.lines.slice(logged).join('\n')).to.contain('could not be loaded; the previous certificate stays');
    expect(await servedSerial(server.tessera.grpcPort, ca.cert)).to.equal(current);
    expect((await call(auth, 'getJwks', {})).keys.length).to.be.greaterThan(0);

    replaceFile(certFile(), stranger.cert);
    expect(server.tessera.reloadCertificates()).to.equal(true);
    expect(await servedSerial(server.tessera.grpcPort, ca.cert)).to.equal(serialOf(stranger));
    expect(server.tessera.reloadCertificates(), 'unchanged files').to.equal(false);
  });
});
