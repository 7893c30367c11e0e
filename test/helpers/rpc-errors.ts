import { status, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { Any } from '../../src/gen/google/protobuf/any.js';
import { BadRequest, ErrorInfo, RetryInfo } from '../../src/gen/google/rpc/error_details.js';
import { Status } from '../../src/gen/google/rpc/status.js';

/** The google.rpc details a Tessera error carries in `grpc-status-details-bin`. */
export interface ErrorDetails {
  code: status;
  message: string;
  badRequest?: BadRequest;
  errorInfo?: ErrorInfo;
  retryInfo?: RetryInfo;
}

export function decodeDetails(err: ServiceError): ErrorDetails {
  const raw = err.metadata?.get('grpc-status-details-bin')[0];
  const details: ErrorDetails = { code: err.code, message: err.details };
  if (!raw) return details;
  const decoded = Status.decode(raw as Buffer);
  for (const any of decoded.details as Any[]) {
    if (any.typeUrl.endsWith('google.rpc.BadRequest')) details.badRequest = BadRequest.decode(any.value);
    if (any.typeUrl.endsWith('google.rpc.ErrorInfo')) details.errorInfo = ErrorInfo.decode(any.value);
    if (any.typeUrl.endsWith('google.rpc.RetryInfo')) details.retryInfo = RetryInfo.decode(any.value);
  }
  return details;
}

/**
 * Awaits a call that must fail with `code`; checks the ErrorInfo reason and
 * the BadRequest field names when given. Returns the decoded details.
 */
export async function expectRpcError(
  promise: Promise<unknown>,
  code: status,
  expected: { reason?: string; fields?: string[] } = {},
): Promise<ErrorDetails> {
  let error: ServiceError | undefined;
  try {
    await promise;
  } catch (err) {
    error = err as ServiceError;
  }
  expect(error, `expected the call to fail with ${status[code]}`).to.not.equal(undefined);
  expect(status[error!.code], error!.details).to.equal(status[code]);
  const details = decodeDetails(error!);
  if (expected.reason) expect(details.errorInfo?.reason).to.equal(expected.reason);
  if (expected.fields) {
    expect(details.badRequest?.fieldViolations.map((v) => v.field)).to.have.members(expected.fields);
  }
  return details;
}
