import type { IncomingMessage, ServerResponse } from 'node:http';
import { metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';

export interface TelemetryOptions {
  /** Default `service.name` when OTEL_SERVICE_NAME is not set. */
  serviceName: string;
  env: NodeJS.ProcessEnv;
  /** Prometheus metrics: served by the caller's HTTP server (`handler`), on their own port, or off. */
  metrics: { kind: 'handler' } | { kind: 'port'; port: number; host?: string } | { kind: 'off' };
}

export interface TelemetryHandle {
  tracing: boolean;
  metricsHandler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  shutdown(): Promise<void>;
}

/** Tracing is on only when an OTLP endpoint or exporter is configured: off costs nothing. */
export function tracingWanted(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED === 'true') return false;
  if (env.OTEL_TRACES_EXPORTER === 'none') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_TRACES_EXPORTER);
}

/**
 * Starts the OpenTelemetry SDK for one binary: traces over OTLP/HTTP (configured by the standard
 * OTEL_* variables), metrics for Prometheus. Libraries only use @opentelemetry/api. The tracing SDK
 * and its exporter are loaded only when tracing is wanted (~2 MB of RSS otherwise).
 */
export async function startTelemetry(options: TelemetryOptions): Promise<TelemetryHandle> {
  const resource = resourceFromAttributes({ 'service.name': options.env.OTEL_SERVICE_NAME ?? options.serviceName }).merge(
    detectResources({ detectors: [envDetector] }),
  );
  const closers: (() => Promise<void>)[] = [];
  const tracing = tracingWanted(options.env);
  if (tracing) {
    const [{ OTLPTraceExporter }, { BatchSpanProcessor }, { NodeTracerProvider }] = await Promise.all([
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/sdk-trace-base'),
      import('@opentelemetry/sdk-trace-node'),
    ]);
    const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())] });
    provider.register();
    closers.push(() => provider.shutdown());
  }
  let metricsHandler: TelemetryHandle['metricsHandler'];
  if (options.metrics.kind !== 'off') {
    const exporter =
      options.metrics.kind === 'handler'
        ? new PrometheusExporter({ preventServerStart: true })
        : new PrometheusExporter({ port: options.metrics.port, host: options.metrics.host ?? '0.0.0.0' });
    const provider = new MeterProvider({ resource, readers: [exporter] });
    metrics.setGlobalMeterProvider(provider);
    if (options.metrics.kind === 'handler') metricsHandler = (req, res) => exporter.getMetricsRequestHandler(req, res);
    closers.push(() => provider.shutdown());
  }
  return {
    tracing,
    metricsHandler,
    shutdown: async () => {
      await Promise.allSettled(closers.map((close) => close()));
    },
  };
}
