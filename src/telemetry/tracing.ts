import { context, propagation, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

/** Where traces go; tracing is off without an endpoint (or an exporter handed to startTracing). */
export interface TracingSettings {
  /** Base URL of an OTLP/HTTP collector (OTEL_EXPORTER_OTLP_ENDPOINT); spans go to `<endpoint>/v1/traces` as protobuf. */
  endpoint: string | undefined;
  /** `service.name` of every span (OTEL_SERVICE_NAME). */
  serviceName: string;
}

/** Process-wide tracing, once started. */
export interface Tracing {
  /** Exports what is buffered, then unregisters: the API is a no-op again. */
  shutdown(): Promise<void>;
}

/**
 * Off (undefined) without an endpoint or an exporter. Otherwise registers an OpenTelemetry tracer provider for the whole process: the
 * AsyncLocalStorage context manager (so spans started anywhere in a call find
 * the call's span), the W3C trace context propagator (`traceparent` and
 * `tracestate` of incoming calls), and an exporter. The OTLP exporter batches;
 * an exporter given directly (tests, in memory) gets every span as it ends.
 *
 * Parent-based sampling: a caller that decided not to sample is followed.
 */
export function startTracing(settings: TracingSettings, exporter?: SpanExporter): Tracing | undefined {
  if (!exporter && !settings.endpoint) return undefined;
  const spanProcessor = exporter
    ? new SimpleSpanProcessor(exporter)
    : new BatchSpanProcessor(new OTLPTraceExporter({ url: `${settings.endpoint!.replace(/\/+$/, '')}/v1/traces` }));
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.serviceName }),
    sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
    spanProcessors: [spanProcessor],
  });
  provider.register();
  return {
    shutdown: async () => {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}
