import {
  Metadata,
  status,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import type { EntityManager, Orm } from '../db/index.js';
import { API_KEY_PREFIX, authenticateAccessToken, authenticateApiKey } from '../domain/authentication.js';
import { authenticateClientCertificate } from '../domain/certificate-authentication.js';
import type { Principal, RequestContext } from '../domain/context.js';
import type { DomainDeps } from '../domain/deps.js';
import { DomainError } from '../domain/errors.js';
import { principalHasPermission } from '../domain/permissions.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { AccessPolicy, AccessPolicyTable } from './access-policy.js';
import { clientCertificateIdentities } from './client-certificate.js';
import { toServiceError } from './errors.js';
import { bearerToken, clientIp, requestIdOf, userAgentOf, type ProxyTrust } from './metadata.js';

/** Everything a handler gets besides its request: the caller, a private EntityManager, a logger. */
export interface CallContext extends RequestContext {
  em: EntityManager;
  log: Logger;
  metadata: Metadata;
}

/** What the transport layer shares between calls; built once by the composition root. */
export interface RpcRuntime {
  deps: DomainDeps;
  orm: Orm;
  log: Logger;
  metrics: Metrics;
  policies: AccessPolicyTable;
  proxies: ProxyTrust;
  /** Aborted when the server shuts down: long-lived calls (streams) end with UNAVAILABLE. */
  shutdownSignal: AbortSignal;
}

/** Where a server-streaming handler sends its messages; resolves once the transport can take more. */
export interface StreamSink<T> {
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
type AnyCall = ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>;

/**
 * Turns typed async handlers into a grpc-js service implementation. Every
 * call gets the same treatment: request id, cancellation signal,
 * authentication and authorization by the RPC's proto access policy, a forked
 * EntityManager, error mapping, a log line and a latency metric.
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
    const handler = (handlers as Record<string, AnyHandler>)[name];
    if (!handler) throw new Error(`${method.path} has no handler`);
    implementation[name] = method.responseStream
      ? (call: ServerWritableStream<unknown, unknown>) => serveStream(rt, method.path, policy, handler, call)
      : (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) =>
          serveUnary(rt, method.path, policy, handler, call, callback);
  }
  return implementation;
}

function serveUnary(
  rt: RpcRuntime,
  path: string,
  policy: AccessPolicy,
  handler: AnyHandler,
  call: ServerUnaryCall<unknown, unknown>,
  callback: sendUnaryData<unknown>,
): void {
  const session = openCall(rt, path, call, false);
  session
    .context(policy)
    .then((ctx) => handler(call.request, ctx))
    .then(
      (response) => {
        session.finish(null);
        callback(null, response);
      },
      (err: unknown) => callback(session.finish(err) as Parameters<sendUnaryData<unknown>>[0]),
    );
}

function serveStream(
  rt: RpcRuntime,
  path: string,
  policy: AccessPolicy,
  handler: AnyHandler,
  call: ServerWritableStream<unknown, unknown>,
): void {
  const session = openCall(rt, path, call, true);
  const sink: StreamSink<unknown> = {
    send: (message) =>
      new Promise<void>((resolve, reject) => {
        if (session.signal.aborted) return reject(session.signal.reason);
        // Respect HTTP/2 flow control: wait for 'drain' instead of buffering without bound.
        if (call.write(message)) return resolve();
        const onDrain = () => {
          session.signal.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = () => {
          call.removeListener('drain', onDrain);
          reject(session.signal.reason);
        };
        call.once('drain', onDrain);
        session.signal.addEventListener('abort', onAbort, { once: true });
      }),
  };
  session
    .context(policy)
    .then((ctx) => handler(call.request, ctx, sink))
    .then(
      () => {
        session.finish(null);
        call.end();
      },
      (err: unknown) => {
        const serviceError = session.finish(err);
        if (!call.cancelled) call.emit('error', serviceError);
      },
    );
}

/** The per-call state shared by unary and streaming calls. */
function openCall(rt: RpcRuntime, path: string, call: AnyCall, longLived: boolean) {
  const started = process.hrtime.bigint();
  const requestId = requestIdOf(call.metadata) ?? randomUUID();
  const abort = abortOnCancelOrDeadline(call, longLived ? rt.shutdownSignal : undefined);
  const log = rt.log.child({ requestId, method: path });
  const responseHeaders = new Metadata();
  responseHeaders.set('x-request-id', requestId);
  call.sendMetadata(responseHeaders);

  const elapsed = (code: status) => {
    abort.dispose();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    rt.metrics.rpcDuration.observe({ method: path, code: status[code] }, seconds);
    return Math.round(seconds * 1000);
  };

  return {
    signal: abort.signal,
    async context(policy: AccessPolicy): Promise<CallContext> {
      const em = rt.orm.em.fork();
      const { principal, vouchesForClient } = await authenticate(
        rt,
        em,
        policy,
        call.metadata,
        clientCertificateIdentities(call),
      );
      const peerIp = clientIp(call.getPeer());
      const forwarded = rt.proxies.forwardedClient(peerIp, call.metadata, vouchesForClient);
      return {
        principal,
        requestId,
        ip: forwarded.ip,
        userAgent: forwarded.userAgent ?? userAgentOf(call.metadata),
        signal: abort.signal,
        em,
        log,
        metadata: call.metadata,
      };
    },
    /** Logs the outcome; for a failure returns what goes on the wire. */
    finish(err: unknown) {
      if (err === null) {
        log.info({ code: 'OK', ms: elapsed(status.OK) }, 'rpc');
        return undefined;
      }
      const mapped = toServiceError(err);
      const e = mapped.domainError;
      log[mapped.level](
        {
          code: status[mapped.serviceError.code!],
          ms: elapsed(mapped.serviceError.code!),
          errorId: e.id,
          reason: e.reason,
          // The cause's stack is for operators only; it never reaches the client.
          err: mapped.level === 'error' ? (e.cause ?? e) : undefined,
        },
        e.message,
      );
      return mapped.serviceError;
    },
  };
}

/**
 * The caller, by the RPC's policy, and whether it vouches for forwarded client
 * addresses: a service account does, also on public RPCs (a backend calling
 * Register or Login for its end user may present its API key for that).
 */
async function authenticate(
  rt: RpcRuntime,
  em: EntityManager,
  policy: AccessPolicy,
  metadata: Metadata,
  certificateIdentities: string[],
): Promise<{ principal: Principal; vouchesForClient: boolean }> {
  if (policy.public) {
    const token = bearerToken(metadata);
    const backend = token?.startsWith(API_KEY_PREFIX) ? await authenticateApiKey(rt.deps, em, token) : undefined;
    return { principal: { kind: 'anonymous' }, vouchesForClient: backend !== undefined };
  }
  const principal = await authenticateForPolicy(rt, em, policy, metadata, certificateIdentities);
  return { principal, vouchesForClient: principal.kind === 'service_account' };
}

async function authenticateForPolicy(
  rt: RpcRuntime,
  em: EntityManager,
  policy: AccessPolicy,
  metadata: Metadata,
  certificateIdentities: string[],
): Promise<Principal> {
  const token = bearerToken(metadata);
  if (!token && certificateIdentities.length === 0) {
    throw new DomainError('unauthenticated', 'AUTHN-010', 'missing "authorization: Bearer <token>" metadata', {
      reason: 'MISSING_CREDENTIALS',
    });
  }
  // Backends send a service account's API key (or, over mTLS, a certificate bound to one); people send an access token.
  const principal = !token
    ? await authenticateClientCertificate(rt.deps, em, certificateIdentities)
    : token.startsWith(API_KEY_PREFIX)
      ? await authenticateApiKey(rt.deps, em, token)
      : await authenticateAccessToken(rt.deps, em, token);
  if (!principalHasPermission(principal, policy.permission)) {
    throw new DomainError('permission_denied', 'AUTHZ-001', `the "${policy.permission}" permission is required`, {
      reason: 'PERMISSION_DENIED',
    });
  }
  return principal;
}

/**
 * grpc-js keeps running a handler after the client went away or the deadline
 * passed; this signal lets the handler's work stop too. Long-lived calls
 * also stop when the server shuts down.
 */
function abortOnCancelOrDeadline(call: AnyCall, shutdown?: AbortSignal): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onCancel = () => controller.abort(new DomainError('cancelled', 'RPC-010', 'the call was cancelled'));
  const onShutdown = () =>
    controller.abort(
      new DomainError('unavailable', 'RPC-012', 'the server is shutting down; retry on another instance', {
        reason: 'SHUTTING_DOWN',
      }),
    );
  call.once('cancelled', onCancel);
  if (shutdown?.aborted) onShutdown();
  else shutdown?.addEventListener('abort', onShutdown, { once: true });
  const deadline = call.getDeadline();
  const ms = deadline instanceof Date ? deadline.getTime() - Date.now() : Number(deadline) - Date.now();
  const timer = Number.isFinite(ms)
    ? setTimeout(() => controller.abort(new DomainError('deadline_exceeded', 'RPC-011', 'the deadline passed')), Math.max(0, ms))
    : undefined;
  return {
    signal: controller.signal,
    dispose: () => {
      if (timer) clearTimeout(timer);
      call.removeListener('cancelled', onCancel);
      shutdown?.removeEventListener('abort', onShutdown);
    },
  };
}
