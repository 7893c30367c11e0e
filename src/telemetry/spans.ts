import {
  INVALID_SPAN_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
  type Tracer,
} from '@opentelemetry/api';

/**
 * Tessera's tracer, through the OpenTelemetry API only: without a registered
 * provider (tracing off, see tracing.ts) every span is a no-op. Looked up on
 * each use, never kept: a tracer obtained while a provider was registered
 * would keep recording into it after tracing stopped.
 */
export function tracer(): Tracer {
  return trace.getTracer('tessera');
}

/**
 * Runs `work` in a child span of the active one (a root span when `root` is
 * set and nothing is active; otherwise nothing is recorded without a parent, so
 * background polls do not each start a trace). The span ends with `work`; a
 * failure marks it ERROR with the error's class name only: messages can carry
 * values (database errors inline their statement's parameters).
 */
export function inSpan<T>(
  name: string,
  attributes: Attributes,
  work: (span: Span) => Promise<T>,
  options: { root?: boolean; kind?: SpanKind } = {},
): Promise<T> {
  if (!options.root && !trace.getActiveSpan()) return work(NOT_RECORDED);
  return tracer().startActiveSpan(name, { attributes, kind: options.kind ?? SpanKind.INTERNAL }, async (span) => {
    try {
      return await work(span);
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: errorName(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}

const NOT_RECORDED = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : typeof err;
}
