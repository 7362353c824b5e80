import { combineSamples, measureSamples, round, type Samples, type Workload } from './load.js';
import { machineSpeed, SLOWED_BELOW } from './machine-speed.js';
import { UsageSampler, type ProcessUsage } from './proc-stats.js';
import { QUIET_SAMPLE_MS, waitForQuiet } from './quiet.js';
import type { TargetResult } from './results.js';
import type { BenchTarget } from './targets/target.js';

export type Progress = (line: string) => void;

export interface MeasureTargetOptions {
  /** About once a second during the measurement. */
  tick?: Progress;
  /** Wait up to this long for other work on the machine to calm down first (0: do not wait). */
  quietWaitMs?: number;
  /** Total quiet waiting the whole run may spend (shared), so a busy machine cannot stretch it. */
  quietBudget?: { remainingMs: number };
}

interface Part {
  samples: Samples;
  usage: ProcessUsage[];
  foreignCpuPercent: number;
  /** The lower of the machine-speed probes before and after the part. */
  speed: number;
}

/**
 * One workload against one target, with peak RSS and CPU time of the target's processes, of
 * the load generator itself, and the CPU share other processes on the machine used meanwhile.
 */
export async function measureTarget(target: BenchTarget, workload: Workload, options: MeasureTargetOptions = {}): Promise<TargetResult> {
  return toResult(target.id, [await measurePart(target, workload, options)]);
}

/**
 * The same workload against several targets, interleaved: each target is warmed up, then
 * measured in `rounds` slices of the time and count bounds, the order rotating every round. Load
 * that other work puts on a shared machine then falls on every target alike, so ratios between
 * targets stay meaningful even when absolute figures are disturbed. The rounds are combined
 * (calls and time summed, latencies merged); each round's calls/s is kept.
 */
export async function measureInterleaved(
  targets: readonly BenchTarget[],
  workload: Workload,
  rounds: number,
  options: MeasureTargetOptions = {},
): Promise<TargetResult[]> {
  for (const target of targets) {
    if (workload.warmupCalls > 0 && workload.warmupMs > 0) {
      await measureSamples(target.callers, {
        ...workload,
        maxCalls: workload.warmupCalls,
        maxMs: workload.warmupMs,
        warmupCalls: 0,
        warmupMs: 0,
      });
    }
  }
  const slice: Workload = {
    ...workload,
    maxCalls: Math.ceil(workload.maxCalls / rounds),
    maxMs: workload.maxMs / rounds,
    // Re-warm briefly: the target sat idle while the others were measured.
    warmupCalls: Math.min(workload.warmupCalls, 100),
    warmupMs: Math.min(workload.warmupMs, 200),
  };
  const parts = new Map<BenchTarget, Part[]>(targets.map((target) => [target, []]));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < targets.length; i++) {
      const target = targets[(i + r) % targets.length]!;
      parts.get(target)!.push(await measurePart(target, slice, options));
    }
  }
  return targets.map((target) => toResult(target.id, parts.get(target)!));
}

async function measurePart(target: BenchTarget, workload: Workload, options: MeasureTargetOptions): Promise<Part> {
  await quiet(options);
  const speedBefore = machineSpeed();
  // The load generator is watched too: its CPU shows whether the client, not the target, is the limit.
  const sampler = new UsageSampler([...target.watched, { role: 'load-generator', pids: () => [process.pid] }]);
  let usage;
  let samples;
  try {
    const tick = options.tick;
    samples = await measureSamples(target.callers, workload, {
      ...(tick
        ? { onTick: (calls: number, elapsed: number) => tick(`    … ${target.id}: ${calls} calls in ${(elapsed / 1000).toFixed(0)} s`) }
        : {}),
    });
  } finally {
    usage = sampler.stop();
  }
  return {
    samples,
    usage: usage.processes,
    foreignCpuPercent: usage.machine.foreignCpuPercent,
    speed: Math.min(speedBefore, machineSpeed()),
  };
}

/** Waits for a quiet machine within the per-wait limit and what is left of the run's budget. */
export async function quiet(options: MeasureTargetOptions): Promise<void> {
  const limit = Math.min(options.quietWaitMs ?? 0, options.quietBudget?.remainingMs ?? Number.POSITIVE_INFINITY);
  if (limit <= 0) return;
  const { waitedMs } = await waitForQuiet(limit);
  // The first look is the price of knowing; only waiting beyond it spends the budget.
  if (options.quietBudget) options.quietBudget.remainingMs -= Math.max(0, waitedMs - QUIET_SAMPLE_MS);
}

function toResult(target: string, parts: readonly Part[]): TargetResult {
  const { measurement } = combineSamples(parts.map((part) => part.samples));
  const roles = parts[0]!.usage.map((usage) => usage.role);
  const elapsed = parts.reduce((sum, part) => sum + part.samples.measurement.elapsedMs, 0);
  const foreign = parts.reduce((sum, part) => sum + part.foreignCpuPercent * part.samples.measurement.elapsedMs, 0);
  return {
    target,
    ...measurement,
    foreignCpuPercent: elapsed > 0 ? Math.round(foreign / elapsed) : 0,
    ...(parts.length > 1 ? { roundsCallsPerSec: parts.map((part) => part.samples.measurement.callsPerSec) } : {}),
    roundsMachineSpeed: parts.map((part) => part.speed),
    processes: roles.map((role) => {
      const usages = parts.map((part) => part.usage.find((usage) => usage.role === role)!);
      const cpuMs = usages.reduce((sum, usage) => sum + usage.cpuMs, 0);
      return {
        role,
        peakRssMB: round(Math.max(...usages.map((usage) => usage.peakRssBytes)) / (1024 * 1024), 1),
        cpuUsPerCall: measurement.calls > 0 ? round((cpuMs * 1000) / measurement.calls, 1) : 0,
      };
    }),
  };
}

/**
 * Results of the same workload measured in several rounds, combined: calls and time summed,
 * latency percentiles approximated by the call-weighted mean of the rounds' percentiles (the
 * samples themselves are not kept in a result), peak RSS the highest, CPU per call weighted.
 */
export function combineResults(parts: readonly TargetResult[], target: string): TargetResult {
  const first = parts[0];
  if (!first) throw new Error('combineResults() needs at least one result');
  const calls = parts.reduce((sum, part) => sum + part.calls, 0);
  const elapsedMs = parts.reduce((sum, part) => sum + part.elapsedMs, 0);
  const weighted = (value: (part: TargetResult) => number) =>
    calls > 0 ? round(parts.reduce((sum, part) => sum + value(part) * part.calls, 0) / calls, 3) : 0;
  const firstError = parts.find((part) => part.firstError !== undefined)?.firstError;
  return {
    ...first,
    target,
    calls,
    errors: parts.reduce((sum, part) => sum + part.errors, 0),
    ...(firstError === undefined ? {} : { firstError }),
    elapsedMs: round(elapsedMs, 1),
    callsPerSec: elapsedMs > 0 ? round((calls * 1000) / elapsedMs, 1) : 0,
    latencyMs: {
      p50: weighted((part) => part.latencyMs.p50),
      p95: weighted((part) => part.latencyMs.p95),
      p99: weighted((part) => part.latencyMs.p99),
      mean: weighted((part) => part.latencyMs.mean),
      max: Math.max(...parts.map((part) => part.latencyMs.max)),
    },
    foreignCpuPercent:
      elapsedMs > 0 ? Math.round(parts.reduce((sum, part) => sum + part.foreignCpuPercent * part.elapsedMs, 0) / elapsedMs) : 0,
    ...(parts.length > 1 ? { roundsCallsPerSec: parts.map((part) => part.callsPerSec) } : {}),
    roundsMachineSpeed: parts.flatMap((part) => part.roundsMachineSpeed ?? []),
    processes: first.processes.map((process) => {
      const same = parts.map((part) => part.processes.find((candidate) => candidate.role === process.role)!);
      return {
        role: process.role,
        peakRssMB: Math.max(...same.map((entry) => entry.peakRssMB)),
        cpuUsPerCall: calls > 0 ? round(same.reduce((sum, entry, i) => sum + entry.cpuUsPerCall * parts[i]!.calls, 0) / calls, 1) : 0,
      };
    }),
  };
}

/** A one-line summary of a result for progress output. */
export function describeResult(result: TargetResult): string {
  const { p50, p95, p99 } = result.latencyMs;
  const processes = result.processes.map((p) => `${p.role} ${p.peakRssMB.toFixed(0)} MB ${p.cpuUsPerCall.toFixed(0)} µs/call`).join(', ');
  const errors = result.errors > 0 ? `  ERRORS ${result.errors} (${result.firstError})` : '';
  const rounds = result.roundsCallsPerSec ? `  rounds ${result.roundsCallsPerSec.map((value) => value.toFixed(0)).join('/')}` : '';
  const noisy = result.foreignCpuPercent >= 10 ? `  [other processes used ${result.foreignCpuPercent}% of the CPU]` : '';
  const slowest = Math.min(...(result.roundsMachineSpeed ?? [1]));
  const slowed =
    slowest < SLOWED_BELOW ? `  [machine slowed to ${slowest.toFixed(2)} of its speed at the start: ${slowedRounds(result)}]` : '';
  return (
    `  ${result.target.padEnd(22)} ${result.workload.padEnd(12)} ${result.callsPerSec.toFixed(0).padStart(7)} calls/s` +
    `  p50 ${p50.toFixed(2)}  p95 ${p95.toFixed(2)}  p99 ${p99.toFixed(2)} ms  (${result.calls} calls)${rounds}${errors}${noisy}${slowed}\n` +
    `  ${''.padEnd(22)} ${processes}`
  );
}

/** Which rounds ran on a slowed machine, e.g. "round 3 at 0.26". */
export function slowedRounds(result: TargetResult): string {
  return (result.roundsMachineSpeed ?? [])
    .map((speed, i) => ({ speed, round: i + 1 }))
    .filter(({ speed }) => speed < SLOWED_BELOW)
    .map(({ speed, round }) => `round ${round} at ${speed.toFixed(2)}`)
    .join(', ');
}
