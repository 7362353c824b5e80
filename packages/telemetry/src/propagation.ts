import { context, propagation, trace, type Context, type TextMapGetter, type TextMapSetter } from '@opentelemetry/api';

/** The slice of a NATS headers object the propagators need (MsgHdrs satisfies it). */
export interface HeaderCarrier {
  get(key: string): string;
  set(key: string, value: string): void;
  keys(): string[];
}

export const natsHeaderSetter: TextMapSetter<HeaderCarrier> = {
  set: (carrier, key, value) => carrier.set(key, value),
};

export const natsHeaderGetter: TextMapGetter<HeaderCarrier> = {
  get: (carrier, key) => carrier.get(key) || undefined,
  keys: (carrier) => carrier.keys(),
};

type Meta = Record<string, unknown>;

/** `params._meta` carries `traceparent`, `tracestate` and `baggage` to and from MCP servers. */
export const metaSetter: TextMapSetter<Meta> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

export const metaGetter: TextMapGetter<Meta> = {
  get: (carrier, key) => (typeof carrier[key] === 'string' ? (carrier[key] as string) : undefined),
  keys: (carrier) => Object.keys(carrier),
};

/** Context from `_meta` if it carries a valid traceparent, else from the fallback (HTTP or NATS headers). */
export function extractContext(meta: Meta | undefined, fallback: () => Context = () => context.active()): Context {
  if (meta && typeof meta.traceparent === 'string') {
    const fromMeta = propagation.extract(context.active(), meta, metaGetter);
    if (trace.getSpanContext(fromMeta)) return fromMeta;
  }
  return fallback();
}

/** `params` with the context's trace headers added to `_meta` (a copy; the input is not changed). */
export function injectIntoParams(ctx: Context, params: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const carrier: Meta = {};
  propagation.inject(ctx, carrier, metaSetter);
  if (Object.keys(carrier).length === 0) return params;
  const meta = (params?._meta as Meta | undefined) ?? {};
  return { ...params, _meta: { ...meta, ...carrier } };
}

/** Trace ids of the active span, for log lines. */
export function traceFields(ctx: Context = context.active()): { trace_id?: string; span_id?: string } {
  const span = trace.getSpanContext(ctx);
  if (!span || !trace.isSpanContextValid(span)) return {};
  return { trace_id: span.traceId, span_id: span.spanId };
}
