import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { isDatabaseUnavailable, isLockTimeout } from '../db/index.js';
import { DomainError, type ErrorKind } from '../domain/kernel/errors.js';
import { SemaphoreTimeoutError } from '../crypto/semaphore.js';
import { Any } from '../gen/google/protobuf/any.js';
import { BadRequest, ErrorInfo, RetryInfo } from '../gen/google/rpc/error_details.js';
import { Status } from '../gen/google/rpc/status.js';

/** ErrorInfo.domain of every Tessera error. */
const ERROR_DOMAIN = 'tessera.dev';

const CODES: Record<ErrorKind, status> = {
  invalid_argument: status.INVALID_ARGUMENT,
  unauthenticated: status.UNAUTHENTICATED,
  permission_denied: status.PERMISSION_DENIED,
  not_found: status.NOT_FOUND,
  already_exists: status.ALREADY_EXISTS,
  failed_precondition: status.FAILED_PRECONDITION,
  aborted: status.ABORTED,
  resource_exhausted: status.RESOURCE_EXHAUSTED,
  unavailable: status.UNAVAILABLE,
  deadline_exceeded: status.DEADLINE_EXCEEDED,
  cancelled: status.CANCELLED,
  internal: status.INTERNAL,
};

/** A DomainError turned into what goes on the wire, plus how loudly to log it. */
export interface MappedError {
  serviceError: Partial<ServiceError>;
  /** Client mistakes are warnings; server faults are errors. */
  level: 'warn' | 'error';
  domainError: DomainError;
}

/**
 * The one place that maps errors to gRPC statuses. Anything that is not a
 * DomainError becomes INTERNAL (or UNAVAILABLE for a database outage) with a
 * generic message: internals stay in the log.
 */
export function toServiceError(err: unknown): MappedError {
  const domainError = normalize(err);
  const code = CODES[domainError.kind];
  const details = encodeDetails(domainError, code);
  const metadata = new Metadata();
  metadata.set('grpc-status-details-bin', Buffer.from(Status.encode(details).finish()));
  const serverFault = domainError.kind === 'internal' || domainError.kind === 'unavailable';
  return {
    serviceError: { code, details: domainError.message, metadata },
    level: serverFault ? 'error' : 'warn',
    domainError,
  };
}

function normalize(err: unknown): DomainError {
  if (err instanceof DomainError) return err;
  if (err instanceof SemaphoreTimeoutError) {
    return new DomainError('resource_exhausted', 'RPC-003', 'the server is busy; retry shortly', {
      reason: 'SERVER_BUSY',
      retryAfterMs: 1000,
      cause: err,
    });
  }
  if (isDatabaseUnavailable(err)) {
    return new DomainError('unavailable', 'RPC-001', 'the service is temporarily unavailable', {
      reason: 'DATABASE_UNAVAILABLE',
      cause: err,
    });
  }
  if (isLockTimeout(err)) {
    return new DomainError('unavailable', 'RPC-006', 'the record is busy; retry shortly', {
      reason: 'DATABASE_BUSY',
      cause: err,
    });
  }
  return new DomainError('internal', 'RPC-002', 'internal error', { reason: 'INTERNAL', cause: err });
}

function encodeDetails(err: DomainError, code: status): Status {
  const details: Any[] = [];
  if (err.violations.length > 0) {
    const badRequest = BadRequest.fromPartial({
      fieldViolations: err.violations.map((v) => ({ field: v.field, description: v.description })),
    });
    details.push(pack('google.rpc.BadRequest', BadRequest.encode(badRequest).finish()));
  }
  // Every error carries ErrorInfo, so clients can always branch on domain + reason and report the error id.
  const reason = err.reason ?? err.kind.toUpperCase();
  const info = ErrorInfo.fromPartial({ reason, domain: ERROR_DOMAIN, metadata: { error_id: err.id } });
  details.push(pack('google.rpc.ErrorInfo', ErrorInfo.encode(info).finish()));
  if (err.retryAfterMs !== undefined) {
    const seconds = Math.floor(err.retryAfterMs / 1000);
    const retry = RetryInfo.fromPartial({ retryDelay: { seconds: String(seconds), nanos: (err.retryAfterMs % 1000) * 1e6 } });
    details.push(pack('google.rpc.RetryInfo', RetryInfo.encode(retry).finish()));
  }
  return Status.fromPartial({ code, message: err.message, details });
}

function pack(typeName: string, value: Uint8Array): Any {
  return { typeUrl: `type.googleapis.com/${typeName}`, value: Buffer.from(value) };
}
