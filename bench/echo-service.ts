// The read floor's one method: `/bench.Echo/Echo` returns its request, raw bytes both ways.
import type { ServiceDefinition } from '@grpc/grpc-js';

const identity = (b: Buffer) => b;

/** `/bench.Echo/Echo`: bytes in, the same bytes out, no protobuf work on either side. */
export const ECHO_SERVICE: ServiceDefinition = {
  echo: {
    path: '/bench.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};
