import type { ServiceDefinition } from '@grpc/grpc-js';
import type { MessageTypeDefinition, MethodDefinition, PackageDefinition } from '@grpc/proto-loader';
import { DomainError, Violations } from '../domain/kernel/errors.js';
import { checkJson, checkRequestString, JSON_MAX_DEPTH } from '../domain/kernel/validation.js';
import { fieldNestedTooDeep, qualifiedTypeName } from './nesting-locator.js';
import { TESSERA_SERVICES } from './proto-definitions.js';

/** Checks one decoded request (ts-proto's object) and throws INVALID_ARGUMENT naming every bad field. */
export type RequestShapeCheck = (request: unknown) => void;

/** Request shape checks by method path ("/tessera.v1.AuthService/Login"). */
export type RequestShapeTable = ReadonlyMap<string, RequestShapeCheck>;

/** The parts of a FieldDescriptorProto (as proto-loader gives it) the walk reads. */
interface FieldDescriptor {
  name: string;
  type: string;
  typeName: string;
  label: string;
}

/** The parts of a DescriptorProto the compilation reads. */
interface DescriptorShape {
  field: FieldDescriptor[];
  oneofDecl: { name: string }[];
  options: { mapEntry?: boolean } | null;
}

/** ts-proto unwraps these: Struct to an object, Value to any JSON value, ListValue to an array, FieldMask to its paths. */
const JSON_TYPES = new Set(['google.protobuf.Struct', 'google.protobuf.Value', 'google.protobuf.ListValue']);
const FIELD_MASK = 'google.protobuf.FieldMask';

/** One step of a compiled walk: where the value sits in the object, how the field is named, what to check. */
interface FieldStep {
  key: string;
  name: string;
  repeated: boolean;
  check: (path: string, value: unknown, violations: Violations) => void;
}

/**
 * Compiles, from the protos, a check per RPC of every string in its request:
 * bounded and free of NUL (checkRequestString), and every JSON field
 * (Struct, Value, ListValue) bounded in size and depth (checkJson). It runs
 * before authentication and the handler, so an oversized or malformed value
 * costs microseconds whatever field carries it; the field rules of the domain
 * then apply their own limits. Requests hold no maps or oneofs today: the
 * compilation refuses them, so a new one is walked on purpose, not skipped.
 */
export function readRequestShapes(definition: PackageDefinition): RequestShapeTable {
  const compiled = new Map<string, FieldStep[]>();
  const stepsOf = (typeName: string): FieldStep[] => {
    const cached = compiled.get(typeName);
    if (cached) return cached;
    const steps: FieldStep[] = [];
    compiled.set(typeName, steps); // before the fields: a recursive message refers to itself
    const type = definition[typeName] as MessageTypeDefinition<unknown, unknown> | undefined;
    if (!type) throw new Error(`request shape: unknown message ${typeName}`);
    const descriptor = type.type as DescriptorShape;
    if (descriptor.options?.mapEntry) throw new Error(`request shape: ${typeName} is a map entry; walk maps before allowing one`);
    // proto3 `optional` makes a synthetic oneof named after its field; proto-loader drops the flag that says so.
    const synthetic = new Set(descriptor.field.map((f) => `_${f.name}`));
    if (descriptor.oneofDecl.some((o) => !synthetic.has(o.name)))
      throw new Error(`request shape: ${typeName} has a oneof; walk it before allowing one`);
    for (const field of descriptor.field) steps.push(compileField(field, stepsOf));
    return steps;
  };

  const table = new Map<string, RequestShapeCheck>();
  for (const serviceName of TESSERA_SERVICES) {
    const service = definition[serviceName] as Record<string, MethodDefinition<unknown, unknown>>;
    for (const method of Object.values(service)) {
      const requestType = qualifiedTypeName((method.requestType.type as { name: string }).name);
      const steps = stepsOf(requestType);
      table.set(method.path, (request) => {
        if (request instanceof UndecodableRequest) {
          // Say which field nests too deep (a Struct, typically), so the client learns what to fix.
          const field = fieldNestedTooDeep(definition, requestType, request.bytes, DECODER_NESTING_LIMIT);
          const violations = field ? [{ field, description: `must nest at most ${JSON_MAX_DEPTH} levels deep` }] : [];
          throw new DomainError('invalid_argument', 'RPC-005', 'the request is not a well-formed message of its type', {
            reason: 'MALFORMED_REQUEST',
            violations,
            cause: request.cause,
          });
        }
        const violations = new Violations();
        walkMessage('', request, steps, violations);
        violations.throwIfAny('RPC-004');
      });
    }
  }
  return table;
}

/** A request the protobuf decoder refused (nested more than 100 messages deep, truncated, wrong wire types). */
class UndecodableRequest {
  constructor(
    readonly cause: unknown,
    readonly bytes: Uint8Array,
  ) {}
}

/** ts-proto's decoders refuse messages nested deeper than this. */
const DECODER_NESTING_LIMIT = 100;

/**
 * The service definition with a decoder that never throws: grpc-js answers a
 * request it cannot decode with INTERNAL, yet that is the client's fault
 * (ts-proto refuses messages nested more than 100 deep, e.g. a deep Struct),
 * so the failure is handed on for the request shape check to refuse as
 * INVALID_ARGUMENT.
 */
export function withRefusableDecoding<D extends ServiceDefinition>(definition: D): D {
  const methods = Object.entries(definition).map(([name, method]) => [
    name,
    {
      ...method,
      requestDeserialize: (bytes: Buffer): unknown => {
        try {
          return method.requestDeserialize(bytes);
        } catch (err) {
          return new UndecodableRequest(err, bytes);
        }
      },
    },
  ]);
  return Object.fromEntries(methods) as D;
}

function compileField(field: FieldDescriptor, stepsOf: (typeName: string) => FieldStep[]): FieldStep {
  const step = { key: camelCase(field.name), name: field.name, repeated: field.label === 'LABEL_REPEATED' };
  if (field.type === 'TYPE_STRING') return { ...step, check: stringCheck };
  if (field.type !== 'TYPE_MESSAGE') return { ...step, check: () => undefined };
  const typeName = qualifiedTypeName(field.typeName);
  if (JSON_TYPES.has(typeName)) return { ...step, check: (path, value, v) => checkJson(path, value, v) };
  if (typeName === FIELD_MASK) return { ...step, check: (path, value, v) => walkList(path, value, stringCheck, v) };
  if (typeName.startsWith('google.protobuf.')) return { ...step, check: () => undefined }; // Timestamp, Duration: no strings
  return { ...step, check: (path, value, v) => walkMessage(path, value, stepsOf(typeName), v) };
}

function walkMessage(prefix: string, message: unknown, steps: FieldStep[], violations: Violations): void {
  if (message === null || typeof message !== 'object') return;
  for (const step of steps) {
    const value = (message as Record<string, unknown>)[step.key];
    if (value === undefined || value === null) continue;
    const path = prefix === '' ? step.name : `${prefix}.${step.name}`;
    if (step.repeated) walkList(path, value, step.check, violations);
    else step.check(path, value, violations);
  }
}

function walkList(
  path: string,
  list: unknown,
  check: (path: string, value: unknown, violations: Violations) => void,
  violations: Violations,
): void {
  if (!Array.isArray(list)) return;
  list.forEach((item, i) => check(`${path}[${i}]`, item, violations));
}

function stringCheck(path: string, value: unknown, violations: Violations): void {
  if (typeof value === 'string') checkRequestString(path, value, violations);
}

/** ts-proto's property name for a proto field: snake_case to lowerCamelCase. */
function camelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
