import { Metadata } from '@grpc/grpc-js';
import type { Span } from '@opentelemetry/api';
import { randomUUID } from 'node:crypto';
import { lazyEntityManager, type Orm } from '../db/index.js';
import type { DomainDeps } from '../domain/kernel/operation.js';
import type { Operation } from '../domain/kernel/operation.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { AccessPolicy, AccessPolicyTable } from './access-policy.js';
import { authenticateCall } from './call-authentication.js';
import { traceIdsOf } from './call-span.js';
import { deadlineOf, type AnyCall } from './call-signal.js';
import { clientCertificateIdentities } from './client-certificate.js';
import type { RequestShapeTable } from './request-shape.js';
import { clientIp, requestIdOf, userAgentOf, type ProxyTrust } from './metadata.js';

/** What the transport layer shares between calls; built once by the composition root. */
export interface RpcRuntime {
  deps: DomainDeps;
  orm: Orm;
  log: Logger;
  metrics: Metrics;
  policies: AccessPolicyTable;
  /** Every request's strings and JSON fields, checked before anything else (request-shape.ts). */
  requestShapes: RequestShapeTable;
  proxies: ProxyTrust;
  /** Aborted when the server shuts down: long-lived calls (streams) end with UNAVAILABLE. */
  shutdownSignal: AbortSignal;
}

/** Everything a handler gets besides its request: the operation to hand to the domain, a logger, the metadata. */
export interface CallContext {
  /** The domain operation of this call: the caller, a private EntityManager, the clock, request facts. */
  op: Operation;
  log: Logger;
  metadata: Metadata;
}

/** A call's identity before authentication: its request id (the caller's, when well formed) and logger. */
export interface CallIdentity {
  requestId: string;
  log: Logger;
}

/**
 * Gives the call its request id, echoes it in the response headers, and makes
 * the call's logger: every line carries the request id and, when traced, the
 * trace and span ids of the call's span.
 */
export function identifyCall(rt: RpcRuntime, path: string, call: AnyCall, span: Span): CallIdentity {
  const requestId = requestIdOf(call.metadata) ?? randomUUID();
  const headers = new Metadata();
  headers.set('x-request-id', requestId);
  call.sendMetadata(headers);
  return { requestId, log: rt.log.child({ requestId, method: path, ...traceIdsOf(span) }) };
}

/**
 * Builds a call's context: a lazily forked EntityManager, the authenticated caller
 * (by the RPC's policy), and the client's address and user agent, taken from
 * forwarding headers only when a trusted proxy or a service account sent them.
 */
export async function createCallContext(
  rt: RpcRuntime,
  call: AnyCall,
  identity: CallIdentity,
  policy: AccessPolicy,
  signal: AbortSignal,
): Promise<CallContext> {
  const anonymous: Operation = {
    deps: rt.deps,
    // Forked on first use: calls served by prepared statements alone never build an identity map.
    em: lazyEntityManager(rt.orm.em),
    clock: rt.deps.clock,
    principal: { kind: 'anonymous' },
    requestId: identity.requestId,
    ip: null,
    userAgent: null,
    signal,
    deadline: deadlineOf(call),
  };
  const { principal, vouchesForClient } = await authenticateCall(
    anonymous,
    policy,
    call.metadata,
    clientCertificateIdentities(call),
  );
  const forwarded = rt.proxies.forwardedClient(clientIp(call.getPeer()), call.metadata, vouchesForClient);
  const op: Operation = {
    ...anonymous,
    principal,
    ip: forwarded.ip,
    userAgent: forwarded.userAgent ?? userAgentOf(call.metadata),
  };
  return { op, log: identity.log, metadata: call.metadata };
}
