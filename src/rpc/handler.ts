import { Metadata, status, type sendUnaryData, type ServerUnaryCall, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import type { EntityManager, Orm } from '../db/index.js';
import { API_KEY_PREFIX, authenticateAccessToken, authenticateApiKey } from '../domain/authentication.js';
import type { Principal, RequestContext } from '../domain/context.js';
import type { DomainDeps } from '../domain/deps.js';
import { DomainError } from '../domain/errors.js';
import { principalHasPermission } from '../domain/permissions.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { AccessPolicy, AccessPolicyTable } from './access-policy.js';
import { toServiceError } from './errors.js';
import { bearerToken, clientIp, requestIdOf, userAgentOf } from './metadata.js';

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
}

type RequestOf<M> = M extends { requestDeserialize: (b: Buffer) => infer R } ? R : never;
type ResponseOf<M> = M extends { responseSerialize: (v: infer R) => Buffer } ? R : never;

/** A service's implementation: one `async (request, ctx) => response` per RPC. */
export type ServiceHandlers<D> = {
  [K in keyof D]: (request: RequestOf<D[K]>, ctx: CallContext) => Promise<ResponseOf<D[K]>>;
};

/**
 * Turns typed async handlers into a grpc-js service implementation, wrapping
 * each in `handleUnary` (context, authentication, errors, logs, metrics).
 * Refuses an RPC without an access policy.
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
    const handler = (handlers as Record<string, (req: unknown, ctx: CallContext) => Promise<unknown>>)[name];
    if (!handler) throw new Error(`${method.path} has no handler`);
    implementation[name] = handleUnary(rt, method.path, policy, handler);
  }
  return implementation;
}

function handleUnary(
  rt: RpcRuntime,
  path: string,
  policy: AccessPolicy,
  handler: (req: unknown, ctx: CallContext) => Promise<unknown>,
) {
  return (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>): void => {
    const started = process.hrtime.bigint();
    const requestId = requestIdOf(call.metadata) ?? randomUUID();
    const abort = abortOnCancelOrDeadline(call);
    const log = rt.log.child({ requestId, method: path });
    const responseHeaders = new Metadata();
    responseHeaders.set('x-request-id', requestId);
    call.sendMetadata(responseHeaders);

    const finish = (code: status) => {
      abort.dispose();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      rt.metrics.rpcDuration.observe({ method: path, code: status[code] }, seconds);
      return seconds;
    };

    (async () => {
      const em = rt.orm.em.fork();
      const principal = await authenticate(rt, em, policy, call.metadata);
      const ctx: CallContext = {
        principal,
        requestId,
        ip: clientIp(call.getPeer()),
        userAgent: userAgentOf(call.metadata),
        signal: abort.signal,
        em,
        log,
        metadata: call.metadata,
      };
      return handler(call.request, ctx);
    })().then(
      (response) => {
        const seconds = finish(status.OK);
        log.info({ code: 'OK', ms: Math.round(seconds * 1000) }, 'rpc');
        callback(null, response);
      },
      (err: unknown) => {
        const mapped = toServiceError(err);
        const seconds = finish(mapped.serviceError.code!);
        const e = mapped.domainError;
        log[mapped.level](
          {
            code: status[mapped.serviceError.code!],
            ms: Math.round(seconds * 1000),
            errorId: e.id,
            reason: e.reason,
            // The cause's stack is for operators only; it never reaches the client.
            err: mapped.level === 'error' ? e.cause ?? e : undefined,
          },
          e.message,
        );
        callback(mapped.serviceError as Parameters<sendUnaryData<unknown>>[0]);
      },
    );
  };
}

async function authenticate(rt: RpcRuntime, em: EntityManager, policy: AccessPolicy, metadata: Metadata): Promise<Principal> {
  if (policy.public) return { kind: 'anonymous' };
  const token = bearerToken(metadata);
  if (!token) {
    throw new DomainError('unauthenticated', 'AUTHN-010', 'missing "authorization: Bearer <token>" metadata', {
      reason: 'MISSING_CREDENTIALS',
    });
  }
  // Backends send a service account's API key; people send an access token.
  const principal = token.startsWith(API_KEY_PREFIX)
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
 * passed; this signal lets the handler's work stop too.
 */
function abortOnCancelOrDeadline(call: ServerUnaryCall<unknown, unknown>): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onCancel = () => controller.abort(new DomainError('cancelled', 'RPC-010', 'the call was cancelled'));
  call.once('cancelled', onCancel);
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
    },
  };
}
