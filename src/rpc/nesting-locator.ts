import type { MessageTypeDefinition, PackageDefinition } from '@grpc/proto-loader';

/** The parts of a FieldDescriptorProto (as proto-loader gives it) the scan reads. */
interface FieldDescriptor {
  name: string;
  number: number;
  type: string;
  typeName: string;
}

/**
 * google.protobuf's JSON messages, by the field numbers that hold messages:
 * Struct.fields (map entries), an entry's value, Value.struct_value and
 * list_value, ListValue.values. A value nested inside them is named by the
 * request field that holds the JSON ("profile.preferences").
 */
const JSON_CHILDREN: Record<string, Record<number, string>> = {
  'google.protobuf.Struct': { 1: 'google.protobuf.Struct.FieldsEntry' },
  'google.protobuf.Struct.FieldsEntry': { 2: 'google.protobuf.Value' },
  'google.protobuf.Value': { 5: 'google.protobuf.Struct', 6: 'google.protobuf.ListValue' },
  'google.protobuf.ListValue': { 1: 'google.protobuf.Value' },
};

/** One open message of the scan: its type, where its bytes end, and the request field it belongs to. */
interface Frame {
  type: string;
  end: number;
  path: string;
}

/**
 * Names the request field whose value nests more than `limit` messages deep
 * (the decoder's recursion limit), from the raw bytes: iterative, so however
 * deep the input, the scan uses no stack, and stops at the first such field.
 * Returns undefined when no field nests that deep or the bytes are malformed
 * in another way (the caller then reports the request as a whole).
 */
export function fieldNestedTooDeep(
  definition: PackageDefinition,
  requestType: string,
  bytes: Uint8Array,
  limit: number,
): string | undefined {
  const frames: Frame[] = [{ type: requestType, end: bytes.length, path: '' }];
  let pos = 0;
  const varint = (): number => {
    let value = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      if (pos >= bytes.length) throw new RangeError('truncated');
      const byte = bytes[pos++];
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    throw new RangeError('varint too long');
  };
  try {
    while (frames.length > 0) {
      const frame = frames[frames.length - 1];
      if (pos >= frame.end) {
        frames.pop();
        continue;
      }
      const tag = varint();
      const wireType = tag % 8;
      const fieldNumber = Math.floor(tag / 8);
      if (wireType === 0) varint();
      else if (wireType === 1) pos += 8;
      else if (wireType === 5) pos += 4;
      else if (wireType !== 2)
        return undefined; // groups: nothing of ours uses them
      else {
        const length = varint();
        const child = childMessage(definition, frame, fieldNumber);
        if (child === undefined) pos += length;
        else {
          if (frames.length >= limit) return child.path;
          frames.push({ ...child, end: pos + length });
        }
      }
      if (pos > frame.end) return undefined;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** The message type and field path of field `fieldNumber` of the open message, if that field holds a message. */
function childMessage(definition: PackageDefinition, frame: Frame, fieldNumber: number): Omit<Frame, 'end'> | undefined {
  const json = JSON_CHILDREN[frame.type];
  if (json) {
    const type = json[fieldNumber];
    return type === undefined ? undefined : { type, path: frame.path };
  }
  const message = definition[frame.type] as MessageTypeDefinition<unknown, unknown> | undefined;
  const field = (message?.type as { field: FieldDescriptor[] } | undefined)?.field.find((f) => f.number === fieldNumber);
  if (!field || field.type !== 'TYPE_MESSAGE') return undefined;
  const type = qualifiedTypeName(field.typeName);
  return { type, path: frame.path === '' ? field.name : `${frame.path}.${field.name}` };
}

/** proto-loader names types in our package relative to it ("Profile"), others fully ("google.protobuf.Struct"). */
export function qualifiedTypeName(typeName: string): string {
  const name = typeName.replace(/^\./, '');
  return name.includes('.') ? name : `tessera.v1.${name}`;
}
