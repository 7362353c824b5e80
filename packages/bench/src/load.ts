import { performance } from 'node:perf_hooks';

import type { McpCaller } from './caller.js';

export interface Workload {
  /** Short id, e.g. "echo-c16". */
  id: string;
  tool: string;
  args: Record<string, unknown>;
  /** Calls in flight at any time (closed loop: each worker sends its next call when the last returns). */
  concurrency: number;
  /** The measurement ends after this many calls … */
  maxCalls: number;
  /** … or after this long, whichever comes first. */
  maxMs: number;
  /** Warm-up before measuring (JIT, connection pools, upstream caches), bounded the same way. */
  warmupCalls: number;
  warmupMs: number;
}

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  max: number;
}

export interface Measurement {
  workload: string;
  tool: string;
  concurrency: number;
  /** Sessions the concurrency was spread over. */
  sessions: number;
  /** Successful calls measured. */
  calls: number;
  errors: number;
  firstError?: string;
  elapsedMs: number;
  callsPerSec: number;
  /** Latency of successful calls, milliseconds. */
  latencyMs: LatencySummary;
}

export interface MeasureOptions {
  /** Called about once a second while measuring, with the calls completed so far. */
  onTick?: (calls: number, elapsedMs: number) => void;
}

interface RunStats {
  latencies: Float64Array;
  calls: number;
  errors: number;
  firstError: string | undefined;
  elapsedMs: number;
}

/**
 * Runs one workload against a set of sessions: `concurrency` workers spread round-robin over the
 * sessions, a warm-up, then a measured phase bounded by count and time. Every call is checked
 * (a JSON-RPC error or a tool error counts as an error, never as a fast call).
 */
export async function measure(callers: readonly McpCaller[], workload: Workload, options: MeasureOptions = {}): Promise<Measurement> {
  return (await measureSamples(callers, workload, options)).measurement;
}

/** A measurement together with its sorted latencies, so measurements can be combined. */
export interface Samples {
  measurement: Measurement;
  /** Latency of every successful call, milliseconds, sorted. */
  latencies: Float64Array;
}

/** `measure()`, also answering the latencies it summarised. */
export async function measureSamples(callers: readonly McpCaller[], workload: Workload, options: MeasureOptions = {}): Promise<Samples> {
  if (callers.length === 0) throw new Error('measure() needs at least one session');
  if (workload.concurrency < 1) throw new Error('concurrency must be at least 1');
  const sessions = Math.min(callers.length, workload.concurrency);
  const prepared = callers.slice(0, sessions).map((caller) => caller.prepare(workload.tool, workload.args));

  if (workload.warmupCalls > 0 && workload.warmupMs > 0) {
    await run(prepared, workload.concurrency, workload.warmupCalls, workload.warmupMs);
  }
  const stats = await run(prepared, workload.concurrency, workload.maxCalls, workload.maxMs, options.onTick);
  const latencies = stats.latencies.subarray(0, stats.calls).sort();
  const measurement: Measurement = {
    workload: workload.id,
    tool: workload.tool,
    concurrency: workload.concurrency,
    sessions,
    calls: stats.calls,
    errors: stats.errors,
    ...(stats.firstError === undefined ? {} : { firstError: stats.firstError }),
    elapsedMs: round(stats.elapsedMs, 1),
    callsPerSec: stats.elapsedMs > 0 ? round((stats.calls * 1000) / stats.elapsedMs, 1) : 0,
    latencyMs: summarise(latencies),
  };
  return { measurement, latencies };
}

/** One measurement from several of the same workload (e.g. interleaved rounds): totals and merged latencies. */
export function combineSamples(parts: readonly Samples[]): Samples {
  const first = parts[0];
  if (!first) throw new Error('combineSamples() needs at least one part');
  const calls = parts.reduce((sum, part) => sum + part.measurement.calls, 0);
  const elapsedMs = parts.reduce((sum, part) => sum + part.measurement.elapsedMs, 0);
  const latencies = new Float64Array(calls);
  let offset = 0;
  for (const part of parts) {
    latencies.set(part.latencies, offset);
    offset += part.latencies.length;
  }
  latencies.sort();
  const firstError = parts.find((part) => part.measurement.firstError !== undefined)?.measurement.firstError;
  return {
    measurement: {
      ...first.measurement,
      calls,
      errors: parts.reduce((sum, part) => sum + part.measurement.errors, 0),
      ...(firstError === undefined ? {} : { firstError }),
      elapsedMs: round(elapsedMs, 1),
      callsPerSec: elapsedMs > 0 ? round((calls * 1000) / elapsedMs, 1) : 0,
      latencyMs: summarise(latencies),
    },
    latencies,
  };
}

async function run(
  prepared: Array<() => Promise<void>>,
  concurrency: number,
  maxCalls: number,
  maxMs: number,
  onTick?: (calls: number, elapsedMs: number) => void,
): Promise<RunStats> {
  const stats: RunStats = { latencies: new Float64Array(maxCalls), calls: 0, errors: 0, firstError: undefined, elapsedMs: 0 };
  let issued = 0;
  const start = performance.now();
  const end = start + maxMs;
  const ticker = onTick ? setInterval(() => onTick(stats.calls, performance.now() - start), 1_000) : undefined;

  const worker = async (call: () => Promise<void>) => {
    while (issued < maxCalls) {
      const sent = performance.now();
      if (sent >= end) break;
      issued++;
      try {
        await call();
        stats.latencies[stats.calls++] = performance.now() - sent;
      } catch (error) {
        stats.errors++;
        stats.firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, (_, index) => worker(prepared[index % prepared.length]!)));
  } finally {
    clearInterval(ticker);
  }
  stats.elapsedMs = performance.now() - start;
  return stats;
}

/** Median of values in any order (mean of the middle two for an even count; 0 for none). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

function summarise(sorted: Float64Array): LatencySummary {
  let total = 0;
  for (const value of sorted) total += value;
  return {
    p50: round(percentile(sorted, 50), 3),
    p95: round(percentile(sorted, 95), 3),
    p99: round(percentile(sorted, 99), 3),
    mean: round(sorted.length > 0 ? total / sorted.length : 0, 3),
    max: round(sorted.length > 0 ? sorted[sorted.length - 1]! : 0, 3),
  };
}

export function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
