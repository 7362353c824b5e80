import { metrics, type Attributes, type Counter, type Histogram, type Meter } from '@opentelemetry/api';
import { Attr, Metric } from './semconv.js';
import { INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION } from './tracer.js';

/** Latency buckets in seconds: sub-millisecond mesh hops up to minute-long tools. */
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/**
 * A sum per attribute set kept in plain JavaScript and read by an observable instrument when
 * metrics are collected (a Prometheus scrape). Recording costs a string key and a Map update;
 * the SDK's synchronous instruments hash and sort the attributes on every record (~3–5 µs each,
 * five per call in the ingress's profile). Exported values are the same cumulative sums, with the
 * same names and attributes, as the synchronous counters they replace.
 */
export class LocalSum {
  /**
   * Attribute sets kept per instrument; later sets share one overflow entry. With it, 2 000 points:
   * the SDK's default cardinality limit, which would otherwise cut the export itself.
   */
  static readonly MAX_ATTRIBUTE_SETS = 1999;
  private readonly sums = new Map<string, { attributes: Attributes; value: number }>();
  private readonly overflow = { attributes: { 'otel.metric.overflow': true } as Attributes, value: 0 };

  constructor(meter: Meter, name: string, options: { description: string; unit?: string; monotonic: boolean }) {
    const { monotonic, ...described } = options;
    const instrument = monotonic ? meter.createObservableCounter(name, described) : meter.createObservableUpDownCounter(name, described);
    instrument.addCallback((result) => {
      for (const { attributes, value } of this.sums.values()) result.observe(value, attributes);
      if (this.overflow.value !== 0) result.observe(this.overflow.value, this.overflow.attributes);
    });
  }

  /**
   * Adds `value` to the sum of `attributes` (string values only; never throws). Some attribute
   * values come from clients (tool names, methods, principals): past MAX_ATTRIBUTE_SETS sets, the
   * rest is summed under `otel.metric.overflow=true`, so memory stays bounded.
   */
  add(value: number, attributes: Readonly<Record<string, string>>): void {
    const key = keyOf(attributes);
    const entry = this.sums.get(key);
    if (entry) entry.value += value;
    else if (this.sums.size < LocalSum.MAX_ATTRIBUTE_SETS) this.sums.set(key, { attributes: { ...attributes }, value });
    else this.overflow.value += value;
  }

  /** The current sum of an attribute set (tests, health views). */
  sumOf(attributes: Readonly<Record<string, string>>): number {
    return this.sums.get(keyOf(attributes))?.value ?? 0;
  }
}

/** One string per attribute set: names and values in their order, with separators no name or value has. */
function keyOf(attributes: Readonly<Record<string, string>>): string {
  let key = '';
  for (const name in attributes) key += `${name}\u0001${attributes[name]}\u0002`;
  return key;
}

/** The mesh's instruments. With no SDK started they are no-ops that cost next to nothing. */
export class MeshMetrics {
  readonly serverDuration: Histogram;
  readonly clientDuration: Histogram;
  readonly inFlight: LocalSum;
  readonly toolCalls: LocalSum;
  readonly toolResultTokens: LocalSum;
  readonly upstreamRestarts: Counter;
  readonly sessionDuration: Histogram;
  readonly policyDenials: Counter;

  constructor() {
    const meter = metrics.getMeter(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);
    this.serverDuration = meter.createHistogram(Metric.ServerOperationDuration, {
      unit: 's',
      description: 'Duration of MCP requests served by the ingress',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
    this.clientDuration = meter.createHistogram(Metric.ClientOperationDuration, {
      unit: 's',
      description: 'Duration of MCP requests a bridge sent to its upstream server',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
    this.inFlight = new LocalSum(meter, Metric.RequestsInFlight, { description: 'MCP requests in flight', monotonic: false });
    this.toolCalls = new LocalSum(meter, Metric.ToolCalls, { description: 'tools/call requests per server and tool', monotonic: true });
    this.toolResultTokens = new LocalSum(meter, Metric.ToolResultTokens, {
      unit: '{token}',
      description: 'Tokens in tool results (estimated with a tokenizer)',
      monotonic: true,
    });
    this.upstreamRestarts = meter.createCounter(Metric.UpstreamRestarts, { description: 'Restarts of upstream MCP servers' });
    this.sessionDuration = meter.createHistogram(Metric.SessionDuration, { unit: 's', description: 'Duration of client sessions' });
    this.policyDenials = meter.createCounter(Metric.PolicyDenials, {
      description: 'Requests refused by gateway policy (forbidden, rate limited, over budget, overloaded, circuit open)',
    });
  }

  /** Reports a per-server state (e.g. breaker: 0 closed, 1 half-open, 2 open) through a callback read at scrape time. */
  observeBreakers(states: () => Record<string, string>): void {
    const meter = metrics.getMeter(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);
    const gauge = meter.createObservableGauge(Metric.BreakerState, {
      description: 'Circuit breaker state per server: 0 closed, 1 half-open, 2 open',
    });
    // The BreakerState names; a state this map does not know reports as open.
    const value: Record<string, number> = { closed: 0, 'half-open': 1, open: 2 };
    gauge.addCallback((result) => {
      try {
        for (const [server, state] of Object.entries(states())) result.observe(value[state] ?? 2, { [Attr.MeshServer]: server });
      } catch {
        // Telemetry never breaks the mesh.
      }
    });
  }

  /**
   * Reports the ingress's replica balancer at scrape time, per server it balances: the replicas it
   * chooses among, the fewest and the most calls in flight from this ingress on one of them (an
   * even spread keeps them close), and calls resent to the queue subject because the replica
   * chosen for them had no responder. One read per scrape.
   */
  observeBalancer(
    read: () => {
      spread: readonly { server: string; replicas: number; min: number; max: number }[];
      requeues: readonly { server: string; count: number }[];
    },
  ): void {
    const meter = metrics.getMeter(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);
    const replicas = meter.createObservableGauge(Metric.BalancedReplicas, {
      description: 'Ready bridge replicas the ingress balances calls among, per server (ingress.balance: least-in-flight)',
    });
    const min = meter.createObservableGauge(Metric.ReplicaCallsInFlightMin, {
      description: "Fewest of this ingress's calls in flight on one balanced replica of the server",
    });
    const max = meter.createObservableGauge(Metric.ReplicaCallsInFlightMax, {
      description: "Most of this ingress's calls in flight on one balanced replica of the server",
    });
    const requeues = meter.createObservableCounter(Metric.BalancerRequeues, {
      description: 'Calls resent to the queue subject because the replica chosen for them had no responder',
    });
    meter.addBatchObservableCallback(
      (result) => {
        try {
          const view = read();
          for (const entry of view.spread) {
            const attributes = { [Attr.MeshServer]: entry.server };
            result.observe(replicas, entry.replicas, attributes);
            result.observe(min, entry.min, attributes);
            result.observe(max, entry.max, attributes);
          }
          for (const { server, count } of view.requeues) result.observe(requeues, count, { [Attr.MeshServer]: server });
        } catch {
          // Telemetry never breaks the mesh.
        }
      },
      [replicas, min, max, requeues],
    );
  }

  /** Records one finished request; never throws. */
  record(histogram: Histogram, seconds: number, attributes: Attributes): void {
    try {
      histogram.record(seconds, attributes);
    } catch {
      // Telemetry never breaks a call.
    }
  }
}
