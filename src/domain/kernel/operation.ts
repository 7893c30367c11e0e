import type { Clock } from '../../clock.js';
import type { EntityManager } from '../../db/index.js';
import type { DomainDeps } from './deps.js';
import type { Principal } from './principal.js';

/** Facts about the request that audit events record. Built by the transport layer. */
export interface RequestFacts {
  requestId: string;
  ip: string | null;
  userAgent: string | null;
  /** Aborted when the client cancels, the deadline passes or the server shuts down. */
  signal: AbortSignal;
}

/**
 * What one domain operation works with: the service's dependencies, the
 * request's own EntityManager, who asks, the clock, and the request facts.
 * The transport layer builds one per call; a CLI command or a job builds one
 * with {@link systemOperation}. Domain functions take `(op, input)`.
 */
export interface Operation extends RequestFacts {
  readonly deps: DomainDeps;
  readonly em: EntityManager;
  readonly principal: Principal;
  readonly clock: Clock;
}

/** An operation for work the service does on its own (start-up, CLI, jobs). */
export function systemOperation(deps: DomainDeps, em: EntityManager, requestId = 'system'): Operation {
  return {
    deps,
    em,
    clock: deps.clock,
    principal: { kind: 'system' },
    requestId,
    ip: null,
    userAgent: null,
    signal: new AbortController().signal,
  };
}
