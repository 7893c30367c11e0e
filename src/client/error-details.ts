import type { ServiceError } from '@grpc/grpc-js';
import { BadRequest, ErrorInfo, RetryInfo } from '../gen/google/rpc/error_details.js';
import { Status } from '../gen/google/rpc/status.js';

/** The google.rpc details a Tessera error carries in its `grpc-status-details-bin` trailer. */
export interface TesseraErrorDetails {
  /** Stable reason (`INVALID_CREDENTIALS`, `EMAIL_TAKEN`...) and domain `tessera.dev`; absent on INVALID_ARGUMENT. */
  errorInfo?: ErrorInfo;
  /** The invalid fields, by proto path, on INVALID_ARGUMENT. */
  badRequest?: BadRequest;
  /** How long to wait before trying again, on RESOURCE_EXHAUSTED. */
  retryInfo?: RetryInfo;
}

const DECODERS = {
  'type.googleapis.com/google.rpc.ErrorInfo': ['errorInfo', ErrorInfo],
  'type.googleapis.com/google.rpc.BadRequest': ['badRequest', BadRequest],
  'type.googleapis.com/google.rpc.RetryInfo': ['retryInfo', RetryInfo],
} as const;

/**
 * Decodes the details of a failed call:
 * `catch (err) { if (errorDetails(err).errorInfo?.reason === 'EMAIL_TAKEN') ... }`.
 * Anything else (no trailer, another error type) gives an empty object.
 */
export function errorDetails(error: unknown): TesseraErrorDetails {
  const raw = (error as Partial<ServiceError> | undefined)?.metadata?.get('grpc-status-details-bin')[0];
  if (!(raw instanceof Buffer)) return {};
  const details: TesseraErrorDetails = {};
  for (const any of Status.decode(raw).details) {
    const decoder = DECODERS[any.typeUrl as keyof typeof DECODERS];
    if (decoder) Object.assign(details, { [decoder[0]]: decoder[1].decode(any.value) });
  }
  return details;
}
