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
  if (callers.length === 0) throw new Error('measure() needs at least one session');
  if (workload.concurrency < 1) throw new Error('concurrency must be at least 1');
  const sessions = Math.min(callers.length, workload.concurrency);
  const prepared = callers.slice(0, sessions).map((caller) => caller.prepare(workload.tool, workload.args));

  if (workload.warmupCalls > 0 && workload.warmupMs > 0) {
    await run(prepared, workload.concurrency, workload.warmupCalls, workload.warmupMs);
  }
  const stats = await run(prepared, workload.concurrency, workload.maxCalls, workload.maxMs, options.onTick);
  const latencies = stats.latencies.subarray(0, stats.calls).sort();
  return {
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
