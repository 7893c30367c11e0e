import { credentials, loadPackageDefinition, status, type Client, type ClientDuplexStream } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { expect } from 'chai';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { FileDescriptorProto } from '../../src/gen/google/protobuf/descriptor.js';
import { harness } from '../helpers/harness.js';

interface ReflectionResponse {
  validHost: string;
  originalRequest: Record<string, unknown>;
  messageResponse: string;
  fileDescriptorResponse?: { fileDescriptorProto: Buffer[] };
  listServicesResponse?: { service: { name: string }[] };
  errorResponse?: { errorCode: number; errorMessage: string };
}

type ReflectionClient = Client & {
  serverReflectionInfo(): ClientDuplexStream<Record<string, unknown>, ReflectionResponse>;
};

/** A client for grpc.reflection.<version>.ServerReflection, built from the protos @grpc/reflection ships. */
function reflectionClient(version: 'v1' | 'v1alpha', address: string): ReflectionClient {
  const packageRoot = dirname(createRequire(import.meta.url).resolve('@grpc/reflection/package.json'));
  const protoFile = join(packageRoot, 'build', 'proto', 'grpc', 'reflection', version, 'reflection.proto');
  const loaded = loadPackageDefinition(loadSync(protoFile, { oneofs: true, longs: Number })) as any;
  const Ctor = loaded.grpc.reflection[version].ServerReflection;
  return new Ctor(address, credentials.createInsecure()) as ReflectionClient;
}

/** Sends one request on a fresh reflection stream and returns the one answer. */
function reflect(client: ReflectionClient, request: Record<string, unknown>): Promise<ReflectionResponse> {
  return new Promise((resolve, reject) => {
    const stream = client.serverReflectionInfo();
    stream.once('data', (response: ReflectionResponse) => {
      resolve(response);
      stream.end();
    });
    stream.once('error', reject);
    stream.write(request);
  });
}

function decodeFiles(response: ReflectionResponse): FileDescriptorProto[] {
  expect(response.errorResponse, response.errorResponse?.errorMessage).to.equal(undefined);
  return response.fileDescriptorResponse!.fileDescriptorProto.map((bytes) => FileDescriptorProto.decode(bytes));
}

const TESSERA_SERVICES = [
  'tessera.v1.AuthService',
  'tessera.v1.ProfileService',
  'tessera.v1.IdentityService',
  'tessera.v1.ComplianceService',
];

describe('grpc.reflection.v1.ServerReflection', () => {
  let client: ReflectionClient;
  before(() => {
    client = reflectionClient('v1', harness().server.address);
  });
  after(() => client.close());

  it('lists the four tessera.v1 services', async () => {
    const response = await reflect(client, { listServices: '' });
    const names = response.listServicesResponse!.service.map((s) => s.name);
    expect(names).to.include.members(TESSERA_SERVICES);
  });

  it('returns auth_service.proto with every file it imports, transitively, for a service symbol', async () => {
    const files = decodeFiles(await reflect(client, { fileContainingSymbol: 'tessera.v1.AuthService' }));
    const names = files.map((f) => f.name);
    expect(names[0]).to.equal('tessera/v1/auth_service.proto');
    expect(names).to.include.members([
      'tessera/v1/options.proto',
      'tessera/v1/token.proto',
      'tessera/v1/user.proto',
      'google/protobuf/descriptor.proto',
      'google/protobuf/timestamp.proto',
    ]);
    // A client can only link the set if every import is in it.
    for (const file of files) expect(names, `imports of ${file.name}`).to.include.members(file.dependency);
    const auth = files[0];
    expect(auth.package).to.equal('tessera.v1');
    expect(auth.service.map((s) => s.name)).to.deep.equal(['AuthService']);
    expect(auth.service[0].method.map((m) => m.name)).to.include.members([
      'Register',
      'Login',
      'RefreshToken',
      'Logout',
      'GetJwks',
    ]);
  });

  it('finds the file of a method and of a message by their full names', async () => {
    const byMethod = decodeFiles(await reflect(client, { fileContainingSymbol: 'tessera.v1.ProfileService.UpdateProfile' }));
    expect(byMethod[0].name).to.equal('tessera/v1/profile_service.proto');
    const byMessage = decodeFiles(await reflect(client, { fileContainingSymbol: 'tessera.v1.Profile' }));
    expect(byMessage[0].name).to.equal('tessera/v1/profile.proto');
  });

  it('serves the google.rpc error detail types, so tools resolving Any by reflection can decode error details', async () => {
    for (const symbol of ['google.rpc.ErrorInfo', 'google.rpc.BadRequest', 'google.rpc.RetryInfo', 'google.rpc.Status']) {
      const [file, ...imports] = decodeFiles(await reflect(client, { fileContainingSymbol: symbol }));
      expect(file.package, symbol).to.equal('google.rpc');
      expect(file.messageType.map((m) => `google.rpc.${m.name}`)).to.include(symbol);
      // Every import comes along, so the file links on its own (RetryInfo needs google.protobuf.Duration).
      expect(imports.map((f) => f.name)).to.have.members(file.dependency);
    }
  });

  it('serves a file by name', async () => {
    const files = decodeFiles(await reflect(client, { fileByFilename: 'tessera/v1/options.proto' }));
    expect(files.map((f) => f.name)).to.deep.equal(['tessera/v1/options.proto', 'google/protobuf/descriptor.proto']);
  });

  it('answers NOT_FOUND in error_response for an unknown symbol', async () => {
    const response = await reflect(client, { fileContainingSymbol: 'tessera.v1.NoSuchService' });
    expect(response.errorResponse?.errorCode).to.equal(status.NOT_FOUND);
    expect(response.fileDescriptorResponse).to.equal(undefined);
    expect(response.originalRequest).to.include({ fileContainingSymbol: 'tessera.v1.NoSuchService' });
  });

  it('answers NOT_FOUND for an unknown file name', async () => {
    const response = await reflect(client, { fileByFilename: 'tessera/v1/nope.proto' });
    expect(response.errorResponse?.errorCode).to.equal(status.NOT_FOUND);
  });

  it('answers several requests on one stream, in order', async () => {
    const stream = client.serverReflectionInfo();
    const responses: ReflectionResponse[] = [];
    const done = new Promise<void>((resolve, reject) => {
      stream.on('data', (r: ReflectionResponse) => responses.push(r));
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    stream.write({ listServices: '' });
    stream.write({ fileContainingSymbol: 'tessera.v1.Nope' });
    stream.write({ fileContainingSymbol: 'tessera.v1.Login' });
    stream.write({ fileContainingSymbol: 'tessera.v1.LoginRequest' });
    stream.end();
    await done;
    expect(responses.map((r) => r.messageResponse)).to.deep.equal([
      'listServicesResponse',
      'errorResponse',
      'errorResponse',
      'fileDescriptorResponse',
    ]);
  });
});

describe('grpc.reflection.v1alpha.ServerReflection', () => {
  it('lists the tessera.v1 services too (older grpcurl and buf curl versions ask v1alpha)', async () => {
    const client = reflectionClient('v1alpha', harness().server.address);
    try {
      const response = await reflect(client, { listServices: '' });
      expect(response.listServicesResponse!.service.map((s) => s.name)).to.include.members(TESSERA_SERVICES);
    } finally {
      client.close();
    }
  });
});
