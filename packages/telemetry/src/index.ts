export { Attr, Metric, MESSAGING_SYSTEM, CLIENT_ERROR_CODES } from './semconv.js';
export {
  natsHeaderGetter,
  natsHeaderSetter,
  metaGetter,
  metaSetter,
  extractContext,
  injectIntoParams,
  traceFields,
} from './propagation.js';
export type { HeaderCarrier } from './propagation.js';
export { meshTracer, mcpSpanName, targetAttributes, targetOf, endSpan, INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION } from './tracer.js';
export { LocalSum, MeshMetrics } from './metrics.js';
