import {
  status,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { AccessPolicy } from './access-policy.js';
import { createCallContext, identifyCall, type CallContext, type CallIdentity, type RpcRuntime } from './call-context.js';
import { createCallSignal, type AnyCall } from './call-signal.js';
import { endCallSpan, inCallSpan, startCallSpan } from './call-span.js';
import { toServiceError } from './errors.js';
import type { RequestShapeCheck } from './request-shape.js';

/** Where a server-streaming handler sends its messages; resolves once the transport can take more. */
interface StreamSink<T> {
  send(message: T): Promise<void>;
}

type RequestOf<M> = M extends { requestDeserialize: (b: Buffer) => infer R } ? R : never;
type ResponseOf<M> = M extends { responseSerialize: (v: infer R) => Buffer } ? R : never;
type HandlerOf<M> = M extends { responseStream: true }
  ? (request: RequestOf<M>, ctx: CallContext, sink: StreamSink<ResponseOf<M>>) => Promise<void>
  : (request: RequestOf<M>, ctx: CallContext) => Promise<ResponseOf<M>>;

/** A service's implementation: one async function per RPC (`(request, ctx) => response`, or a sink for streams). */
export type ServiceHandlers<D> = { [K in keyof D]: HandlerOf<D[K]> };

type AnyHandler = (request: unknown, ctx: CallContext, sink?: StreamSink<unknown>) => Promise<unknown>;

/**
 * Turns typed async handlers into a grpc-js service implementation. Every
 * call gets the same treatment: request id, abort signal, the request's shape
 * (every string bounded and NUL-free, JSON bounded), authentication and
 * authorization by the RPC's proto access policy, a forked EntityManager,
 * error mapping, a log line, a latency metric and a trace span.
 */
export function implementService<D extends ServiceDefinition>(
  rt: RpcRuntime,
  definition: D,
  handlers: ServiceHandlers<D>,
): UntypedServiceImplementation {
  const implementation: UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(definition)) {
    const policy = rt.policies.get(method.path);
    if (!policy) throw new Error(`${method.path} has no access policy`);
    const checkShape = rt.requestShapes.get(method.path);
    if (!checkShape) throw new Error(`${method.path} has no request shape`);
    const handler = (handlers as Record<string, AnyHandler>)[name];
    if (!handler) throw new Error(`${method.path} has no handler`);
    implementation[name] = method.responseStream
      ? (call: ServerWritableStream<unknown, unknown>) => void serveStream(rt, method.path, policy, checkShape, handler, call)
      : (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) =>
          void serveUnary(rt, method.path, policy, checkShape, handler, call, callback);
  }
  return implementation;
}

async function serveUnary(
  rt: RpcRuntime,
  path: string,
  policy: AccessPolicy,
  checkShape: RequestShapeCheck,
  handler: AnyHandler,
  call: ServerUnaryCall<unknown, unknown>,
  callback: sendUnaryData<unknown>,
): Promise<void> {
  const outcome = startCall(rt, path, call, false);
  let response: unknown;
  try {
    // First, before authentication: a bad value of any size is refused in time that follows the bounds.
    checkShape(call.request);
    response = await outcome.run(async () => {
      const ctx = await createCallContext(rt, call, outcome.identity, policy, outcome.signal);
      return handler(call.request, ctx);
    });
  } catch (err) {
    callback(outcome.failed(err));
    return;
  }
  outcome.succeeded();
  callback(null, response);
}

async function serveStream(
  rt: RpcRuntime,
  path: string,
  policy: AccessPolicy,
  checkShape: RequestShapeCheck,
  handler: AnyHandler,
  call: ServerWritableStream<unknown, unknown>,
): Promise<void> {
  const outcome = startCall(rt, path, call, true);
  try {
    checkShape(call.request);
    await outcome.run(async () => {
      const ctx = await createCallContext(rt, call, outcome.identity, policy, outcome.signal);
      await handler(call.request, ctx, flowControlledSink(call, outcome.signal));
    });
  } catch (err) {
    const serviceError = outcome.failed(err);
    if (!call.cancelled) call.emit('error', serviceError);
    return;
  }
  outcome.succeeded();
  call.end();
}

/** Writes to the stream, waiting for 'drain' (HTTP/2 flow control) instead of buffering without bound. */
function flowControlledSink(call: ServerWritableStream<unknown, unknown>, signal: AbortSignal): StreamSink<unknown> {
  return {
    send: (message) =>
      new Promise<void>((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason);
        if (call.write(message)) return resolve();
        const onDrain = () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = () => {
          call.removeListener('drain', onDrain);
          reject(signal.reason);
        };
        call.once('drain', onDrain);
        signal.addEventListener('abort', onAbort, { once: true });
      }),
  };
}

/** A started call: its identity and signal, and the two ways it can end (each logged, timed and traced once). */
interface CallOutcome {
  identity: CallIdentity;
  signal: AbortSignal;
  /** Runs the call's work inside its trace span. */
  run<T>(work: () => Promise<T>): Promise<T>;
  succeeded(): void;
  /** Logs the failure and returns what goes on the wire. */
  failed(err: unknown): ReturnType<typeof toServiceError>['serviceError'];
}

function startCall(rt: RpcRuntime, path: string, call: AnyCall, longLived: boolean): CallOutcome {
  const started = process.hrtime.bigint();
  const callSpan = startCallSpan(path, call.metadata);
  const identity = identifyCall(rt, path, call, callSpan.span);
  const { signal, dispose } = createCallSignal(call, longLived ? rt.shutdownSignal : undefined);
  const finish = (code: status): number => {
    dispose();
    endCallSpan(callSpan.span, code);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    rt.metrics.rpcDuration.observe({ method: path, code: status[code] }, seconds);
    return Math.round(seconds * 1000);
  };
  return {
    identity,
    signal,
    run: (work) => inCallSpan(callSpan, work),
    succeeded() {
      identity.log.info({ code: 'OK', ms: finish(status.OK) }, 'rpc');
    },
    failed(err) {
      const { serviceError, domainError, level } = toServiceError(err);
      identity.log[level](
        {
          code: status[serviceError.code!],
          ms: finish(serviceError.code!),
          errorId: domainError.id,
          reason: domainError.reason,
          // The cause's stack is for operators only; it never reaches the client.
          err: level === 'error' ? (domainError.cause ?? domainError) : undefined,
        },
        domainError.message,
      );
      return serviceError;
    },
  };
}
