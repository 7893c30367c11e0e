import { status, type Metadata } from '@grpc/grpc-js';
import {
  context,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type TextMapGetter,
} from '@opentelemetry/api';
import {
  ATTR_RPC_METHOD,
  ATTR_RPC_STATUS_CODE,
  ATTR_RPC_SYSTEM_NAME,
  RPC_SYSTEM_NAME_VALUE_GRPC,
} from '@opentelemetry/semantic-conventions';
import { tracer } from '../telemetry/spans.js';

/** A call's server span and the context its work runs in (the span as the active one). */
export interface CallSpan {
  span: Span;
  context: Context;
}

/** Reads `traceparent` / `tracestate` from gRPC metadata (ASCII values only). */
const metadataGetter: TextMapGetter<Metadata> = {
  keys: (metadata) => Object.keys(metadata.getMap()),
  get: (metadata, key) => {
    const values = metadata.get(key).filter((v): v is string => typeof v === 'string');
    return values.length > 1 ? values : values[0];
  },
};

/** Codes that mean the server failed (OpenTelemetry's gRPC conventions); the others are the caller's doing. */
const SERVER_FAULTS = new Set([
  status.UNKNOWN,
  status.DEADLINE_EXCEEDED,
  status.UNIMPLEMENTED,
  status.INTERNAL,
  status.UNAVAILABLE,
  status.DATA_LOSS,
]);

/**
 * Starts the server span of a call, named after its full method
 * (`tessera.v1.AuthService/Login`), as a child of the caller's W3C trace
 * context when the metadata carries one. Without tracing it is a no-op span.
 */
export function startCallSpan(path: string, metadata: Metadata): CallSpan {
  const parent = propagation.extract(ROOT_CONTEXT, metadata, metadataGetter);
  const method = path.slice(1);
  const span = tracer().startSpan(
    method,
    {
      kind: SpanKind.SERVER,
      attributes: { [ATTR_RPC_SYSTEM_NAME]: RPC_SYSTEM_NAME_VALUE_GRPC, [ATTR_RPC_METHOD]: method },
    },
    parent,
  );
  return { span, context: trace.setSpan(parent, span) };
}

/** Ends a call's span with its gRPC status code. */
export function endCallSpan(span: Span, code: status): void {
  span.setAttribute(ATTR_RPC_STATUS_CODE, status[code]);
  if (SERVER_FAULTS.has(code)) span.setStatus({ code: SpanStatusCode.ERROR, message: status[code] });
  span.end();
}

/** The trace and span ids for the call's log lines; none when the call is not traced. */
export function traceIdsOf(span: Span): { traceId: string; spanId: string } | undefined {
  const ids = span.spanContext();
  return isSpanContextValid(ids) ? { traceId: ids.traceId, spanId: ids.spanId } : undefined;
}

/** Runs `work` with the call's span active, so spans started inside (SQL, hashing) become its children. */
export function inCallSpan<T>(callSpan: CallSpan, work: () => Promise<T>): Promise<T> {
  return context.with(callSpan.context, work);
}
