import { status, type Server, type ServerDuplexStream, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { BinaryReader } from '@bufbuild/protobuf/wire';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileDescriptorProto, type DescriptorProto } from '../gen/google/protobuf/descriptor.js';

/** Descriptor set written by `npm run generate` (`buf build`): real file names, imports and options. */
const DESCRIPTOR_SET = fileURLToPath(new URL('../gen/tessera.binpb', import.meta.url));

interface ReflectionRequest {
  host?: string;
  fileByFilename?: string;
  fileContainingSymbol?: string;
  fileContainingExtension?: { containingType: string; extensionNumber: number };
  allExtensionNumbersOfType?: string;
  listServices?: string;
  messageRequest?: string;
}

/**
 * The compiled descriptors of Tessera's protos, indexed for reflection.
 *
 * @grpc/reflection rebuilds descriptors through protobufjs, which renames
 * files and drops imports that no field references (our options.proto), so
 * buf curl and grpcurl fail to link them. We serve buf's own bytes instead.
 */
class DescriptorIndex {
  private readonly bytesByFile = new Map<string, Uint8Array>();
  private readonly depsByFile = new Map<string, string[]>();
  private readonly fileBySymbol = new Map<string, string>();
  private readonly extensions = new Map<string, Map<number, string>>();
  readonly services: string[] = [];

  constructor(descriptorSet: Uint8Array) {
    const reader = new BinaryReader(descriptorSet);
    while (reader.pos < reader.len) {
      const [field, wireType] = reader.tag();
      if (field !== 1) {
        reader.skip(wireType);
        continue;
      }
      const bytes = reader.bytes();
      this.add(bytes, FileDescriptorProto.decode(bytes));
    }
  }

  private add(bytes: Uint8Array, descriptor: FileDescriptorProto): void {
    const file = { ...descriptor, name: descriptor.name ?? '', package: descriptor.package ?? '' };
    this.bytesByFile.set(file.name, bytes);
    this.depsByFile.set(file.name, file.dependency);
    const prefix = file.package ? `${file.package}.` : '';
    const indexMessage = (message: DescriptorProto, scope: string) => {
      const name = `${scope}${message.name}`;
      this.fileBySymbol.set(name, file.name);
      message.field.forEach((f) => this.fileBySymbol.set(`${name}.${f.name}`, file.name));
      message.nestedType.forEach((nested) => indexMessage(nested, `${name}.`));
      message.enumType.forEach((e) => this.fileBySymbol.set(`${name}.${e.name}`, file.name));
      message.extension.forEach((ext) =>
        this.indexExtension(ext.extendee ?? '', ext.number ?? 0, `${name}.${ext.name}`, file.name),
      );
    };
    file.messageType.forEach((m) => indexMessage(m, prefix));
    file.enumType.forEach((e) => {
      this.fileBySymbol.set(`${prefix}${e.name}`, file.name);
      e.value.forEach((v) => this.fileBySymbol.set(`${prefix}${v.name}`, file.name));
    });
    file.service.forEach((s) => {
      const name = `${prefix}${s.name}`;
      this.fileBySymbol.set(name, file.name);
      s.method.forEach((m) => this.fileBySymbol.set(`${name}.${m.name}`, file.name));
      if (file.package.startsWith('tessera.')) this.services.push(name);
    });
    file.extension.forEach((ext) => this.indexExtension(ext.extendee ?? '', ext.number ?? 0, `${prefix}${ext.name}`, file.name));
  }

  private indexExtension(extendee: string, number: number, name: string, fileName: string): void {
    const type = extendee.replace(/^\./, '');
    if (!this.extensions.has(type)) this.extensions.set(type, new Map());
    this.extensions.get(type)!.set(number, fileName);
    this.fileBySymbol.set(name, fileName);
  }

  /** A file and everything it imports, transitively (by its declared imports). */
  withDependencies(fileName: string | undefined): Uint8Array[] | undefined {
    if (!fileName || !this.bytesByFile.has(fileName)) return undefined;
    const ordered: string[] = [];
    const visit = (name: string) => {
      if (ordered.includes(name) || !this.bytesByFile.has(name)) return;
      ordered.push(name);
      this.depsByFile.get(name)!.forEach(visit);
    };
    visit(fileName);
    return ordered.map((name) => this.bytesByFile.get(name)!);
  }

  fileOfSymbol(symbol: string): string | undefined {
    return this.fileBySymbol.get(symbol.replace(/^\./, ''));
  }

  fileOfExtension(type: string, number: number): string | undefined {
    return this.extensions.get(type.replace(/^\./, ''))?.get(number);
  }

  extensionNumbers(type: string): number[] | undefined {
    const numbers = this.extensions.get(type.replace(/^\./, ''));
    return numbers ? [...numbers.keys()] : undefined;
  }
}

function answer(index: DescriptorIndex, request: ReflectionRequest): Record<string, unknown> {
  const notFound = (what: string) => ({ errorResponse: { errorCode: status.NOT_FOUND, errorMessage: `${what} not found` } });
  const files = (list: Uint8Array[] | undefined, what: string) =>
    list ? { fileDescriptorResponse: { fileDescriptorProto: list } } : notFound(what);
  if (request.fileByFilename !== undefined) return files(index.withDependencies(request.fileByFilename), 'file');
  if (request.fileContainingSymbol !== undefined) {
    return files(index.withDependencies(index.fileOfSymbol(request.fileContainingSymbol)), 'symbol');
  }
  if (request.fileContainingExtension) {
    const { containingType, extensionNumber } = request.fileContainingExtension;
    return files(index.withDependencies(index.fileOfExtension(containingType, extensionNumber)), 'extension');
  }
  if (request.allExtensionNumbersOfType !== undefined) {
    const numbers = index.extensionNumbers(request.allExtensionNumbersOfType);
    return numbers
      ? { allExtensionNumbersResponse: { baseTypeName: request.allExtensionNumbersOfType, extensionNumber: numbers } }
      : notFound('type');
  }
  if (request.listServices !== undefined) {
    return { listServicesResponse: { service: index.services.map((name) => ({ name })) } };
  }
  return { errorResponse: { errorCode: status.INVALID_ARGUMENT, errorMessage: 'unsupported request' } };
}

function reflectionServiceDefinition(version: 'v1' | 'v1alpha'): ServiceDefinition {
  // The reflection protos ship inside @grpc/reflection.
  const packageRoot = dirname(createRequire(import.meta.url).resolve('@grpc/reflection/package.json'));
  const protoFile = join(packageRoot, 'build', 'proto', 'grpc', 'reflection', version, 'reflection.proto');
  const packageDefinition = loadSync(protoFile, { oneofs: true, longs: Number });
  const definition = packageDefinition[`grpc.reflection.${version}.ServerReflection`];
  if (!definition) throw new Error(`reflection.proto (${version}) has no ServerReflection service`);
  return definition as unknown as ServiceDefinition;
}

/** Adds server reflection (v1 and v1alpha) for Tessera's services, so buf curl and grpcurl need no .proto files. */
export function addReflection(server: Server): void {
  const index = new DescriptorIndex(readFileSync(DESCRIPTOR_SET));
  for (const version of ['v1', 'v1alpha'] as const) {
    server.addService(reflectionServiceDefinition(version), {
      ServerReflectionInfo: (call: ServerDuplexStream<ReflectionRequest, unknown>) => {
        call.on('data', (request: ReflectionRequest) => {
          const { messageRequest: _ignored, ...originalRequest } = request;
          call.write({ validHost: request.host ?? '', originalRequest, ...answer(index, request) });
        });
        call.on('end', () => call.end());
        call.on('error', () => call.end());
      },
    });
  }
}
