import { measure, type Workload } from './load.js';
import { UsageSampler } from './proc-stats.js';
import { waitForQuiet } from './quiet.js';
import { toTargetResult, type TargetResult } from './results.js';
import type { BenchTarget } from './targets/target.js';

export type Progress = (line: string) => void;

export interface MeasureTargetOptions {
  /** About once a second during the measurement. */
  tick?: Progress;
  /** Wait up to this long for other work on the machine to calm down first (0: do not wait). */
  quietWaitMs?: number;
  /**
   * Retries shared by the measurements of one target: a measurement during which other processes used more than
   * `NOISY_PERCENT` of the CPU is repeated (after another quiet wait) while retries remain, and the
   * least disturbed attempt is kept.
   */
  retries?: { remaining: number };
}

/** Other processes' CPU share above which a measurement counts as disturbed. */
export const NOISY_PERCENT = 20;

/**
 * One workload against one target, with peak RSS and CPU time of the target's processes, of
 * the load generator itself, and the CPU share other processes on the machine used meanwhile.
 */
export async function measureTarget(target: BenchTarget, workload: Workload, options: MeasureTargetOptions = {}): Promise<TargetResult> {
  let best = await measureOnce(target, workload, options);
  let attempts = 1;
  while (best.foreignCpuPercent > NOISY_PERCENT && options.retries && options.retries.remaining > 0) {
    options.retries.remaining--;
    attempts++;
    const again = await measureOnce(target, workload, { ...options, quietWaitMs: Math.max(options.quietWaitMs ?? 0, 5_000) });
    if (again.foreignCpuPercent < best.foreignCpuPercent) best = again;
  }
  return { ...best, attempts };
}

async function measureOnce(target: BenchTarget, workload: Workload, options: MeasureTargetOptions): Promise<TargetResult> {
  if (options.quietWaitMs) await waitForQuiet(options.quietWaitMs);
  // The load generator is watched too: its CPU shows whether the client, not the target, is the limit.
  const sampler = new UsageSampler([...target.watched, { role: 'load-generator', pids: () => [process.pid] }]);
  let usage;
  let measurement;
  try {
    const tick = options.tick;
    measurement = await measure(target.callers, workload, {
      ...(tick ? { onTick: (calls: number, elapsed: number) => tick(`    … ${calls} calls in ${(elapsed / 1000).toFixed(0)} s`) } : {}),
    });
  } finally {
    usage = sampler.stop();
  }
  return toTargetResult(target.id, measurement, usage.processes, usage.machine.foreignCpuPercent);
}

/** A one-line summary of a result for progress output. */
export function describeResult(result: TargetResult): string {
  const { p50, p95, p99 } = result.latencyMs;
  const processes = result.processes.map((p) => `${p.role} ${p.peakRssMB.toFixed(0)} MB ${p.cpuUsPerCall.toFixed(0)} µs/call`).join(', ');
  const errors = result.errors > 0 ? `  ERRORS ${result.errors} (${result.firstError})` : '';
  const noisy =
    result.foreignCpuPercent >= 10
      ? `  [other processes used ${result.foreignCpuPercent}% of the CPU${result.attempts > 1 ? `; least disturbed of ${result.attempts}` : ''}]`
      : '';
  return (
    `  ${result.target.padEnd(22)} ${result.workload.padEnd(12)} ${result.callsPerSec.toFixed(0).padStart(7)} calls/s` +
    `  p50 ${p50.toFixed(2)}  p95 ${p95.toFixed(2)}  p99 ${p99.toFixed(2)} ms  (${result.calls} calls)${errors}${noisy}\n` +
    `  ${''.padEnd(22)} ${processes}`
  );
}
