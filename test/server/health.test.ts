import { credentials, loadPackageDefinition, status, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { expect } from 'chai';
import { protoPath } from 'grpc-health-check';
import { harness } from '../helpers/harness.js';
import { call } from '../helpers/server.js';

type HealthClient = Client & {
  check(request: { service: string }, callback: (err: ServiceError | null, res: { status: string }) => void): void;
};

function healthClient(address: string): HealthClient {
  const loaded = loadPackageDefinition(loadSync(protoPath, { enums: String })) as any;
  return new loaded.grpc.health.v1.Health(address, credentials.createInsecure()) as HealthClient;
}

function check(client: HealthClient, service: string): Promise<string> {
  return new Promise((resolve, reject) => {
    client.check({ service }, (err, res) => (err ? reject(err) : resolve(res.status)));
  });
}

/** GET on the ops HTTP port of the shared server. */
async function opsGet(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`http://127.0.0.1:${harness().server.tessera.httpPort}${path}`, init);
}

describe('grpc.health.v1.Health/Check', () => {
  let client: HealthClient;
  before(() => {
    client = healthClient(harness().server.address);
  });
  after(() => client.close());

  it('reports SERVING for the server as a whole', async () => {
    expect(await check(client, '')).to.equal('SERVING');
  });

  for (const service of ['tessera.v1.AuthService', 'tessera.v1.ProfileService']) {
    it(`reports SERVING for ${service}`, async () => {
      expect(await check(client, service)).to.equal('SERVING');
    });
  }

  it('answers NOT_FOUND for a service it does not know', async () => {
    const err = await check(client, 'tessera.v1.NoSuchService').then(
      () => undefined,
      (e: ServiceError) => e,
    );
    expect(err?.code).to.equal(status.NOT_FOUND);
  });
});

describe('the ops HTTP port', () => {
  it('answers /healthz with 200', async () => {
    const res = await opsGet('/healthz');
    expect(res.status).to.equal(200);
    expect(await res.text()).to.equal('ok\n');
  });

  it('answers /readyz with 200 while the database is reachable', async () => {
    const res = await opsGet('/readyz');
    expect(res.status).to.equal(200);
  });

  it('exposes the gRPC handling histogram on /metrics in Prometheus text format', async () => {
    await call(harness().server.auth, 'getJwks', {});
    const res = await opsGet('/metrics');
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.contain('text/plain');
    const body = await res.text();
    expect(body).to.contain('# TYPE tessera_grpc_server_handling_seconds histogram');
    expect(body).to.match(
      /tessera_grpc_server_handling_seconds_count\{method="\/tessera\.v1\.AuthService\/GetJwks",code="OK"\} [1-9]/,
    );
    expect(body).to.contain('tessera_database_up 1');
  });

  it('publishes the signing keys on /.well-known/jwks.json, the same as AuthService.GetJwks', async () => {
    const res = await opsGet('/.well-known/jwks.json');
    expect(res.status).to.equal(200);
    const { keys } = (await res.json()) as { keys: { kid: string }[] };
    const rpc = await call(harness().server.auth, 'getJwks', {});
    expect(keys.map((k) => k.kid)).to.deep.equal(rpc.keys.map((k) => k.kid));
  });

  it('answers 404 for an unknown path', async () => {
    const res = await opsGet('/nope');
    expect(res.status).to.equal(404);
    await res.text();
  });

  it('answers 405 for a method other than GET', async () => {
    const res = await opsGet('/healthz', { method: 'POST', body: 'x' });
    expect(res.status).to.equal(405);
    await res.text();
  });
});
