import { calibrateHashWork, timeHashWork } from './cpu-work.js';
import { round } from './load.js';
import type { BenchOptions } from './options.js';
import { CPU_SERVER } from './paths.js';
import type { FanoutResult, TargetResult } from './results.js';
import { combineResults, describeResult, measureTarget, quiet, type MeasureTargetOptions, type Progress } from './run-target.js';
import { startMesh, type MeshTarget } from './targets/mesh.js';
import type { Workload } from './load.js';
import { boundedWorkload } from './workloads.js';

const FANOUT_CONCURRENCY = 16;

/**
 * Fan-out: a CPU-bound tool through the mesh with one bridge replica and with two (NATS queue
 * group), in alternating rounds, at concurrency 16, for each CPU cost in `costsMs` (the issue's ~5 ms first). On a
 * machine with N cores the speedup is bounded by the CPU the rest of the path needs per call, so
 * a heavier cost shows the scaling of the queue group itself.
 */
export async function runFanout(
  options: BenchOptions,
  costsMs: readonly number[],
  progress: Progress,
  measureOptions: MeasureTargetOptions,
  blockMs?: number,
): Promise<FanoutResult[]> {
  await quiet(measureOptions);
  const levels: { tool: 'hash' | 'block'; targetMs: number; iterations: number; hashMs: number }[] = costsMs.map((targetMs) => {
    const iterations = calibrateHashWork(targetMs);
    return { tool: 'hash', targetMs, iterations, hashMs: round(timeHashWork(iterations), 2) };
  });
  for (const level of levels) {
    progress(`▶ fanout: hash tool of ${level.iterations} FNV-1a rounds over 1 KiB ≈ ${level.hashMs} ms of CPU per call`);
  }
  // The same spread of calls over replicas without CPU contention: the upstream blocks, one call at a time.
  if (blockMs !== undefined) {
    levels.push({ tool: 'block', targetMs: blockMs, iterations: 0, hashMs: blockMs });
    progress(`▶ fanout: block tool holding the upstream ${blockMs} ms per call without CPU`);
  }

  const meshOptions = {
    server: 'cpu',
    upstream: { command: process.execPath, args: [CPU_SERVER, '--name', 'cpu'] },
    sessions: options.sessions,
    ...(options.meshCli === undefined ? {} : { cli: options.meshCli }),
  };
  const mesh = await startMesh(meshOptions);
  // The same two replicas behind an ingress that lets NATS pick at random: what balancing changes.
  let queueGroup: MeshTarget | undefined;
  try {
    queueGroup = await startMesh({ ...meshOptions, replicas: 2, ingressArgs: ['--balance', 'queue-group'] });
  } catch (error) {
    progress(`  (no queue-group comparison: ${(error as Error).message.split('\n')[0]})`);
  }
  try {
    const workloads = levels.map((level) =>
      boundedWorkload(
        {
          id: `${level.tool}${level.targetMs}ms-c${FANOUT_CONCURRENCY}`,
          tool: level.tool,
          args: level.tool === 'hash' ? { iterations: level.iterations } : { ms: level.targetMs },
          concurrency: FANOUT_CONCURRENCY,
        },
        // CPU-bound calls are 50-500x slower than echo: a short warm-up suffices.
        { ...options, warmupCalls: Math.min(options.warmupCalls, 50) },
      ),
    );
    // Rounds alternate the variants, in an order that rotates from round to round, so that other
    // load on a shared machine (and this VM's slowdowns under sustained CPU load) falls on all.
    const parts = workloads.map(() => ({ one: [] as TargetResult[], two: [] as TargetResult[], queue: [] as TargetResult[] }));
    const variants = (['one', 'two', 'queue'] as const).filter((variant) => variant !== 'queue' || queueGroup);
    let replicas = 1;
    const ensureReplicas = async (wanted: number) => {
      if (wanted > replicas) {
        progress('  starting a second bridge replica…');
        await mesh.addReplica();
      } else if (wanted < replicas) await mesh.removeReplica();
      replicas = wanted;
    };
    for (let r = 0; r < options.rounds; r++) {
      for (let v = 0; v < variants.length; v++) {
        const variant = variants[(v + r) % variants.length]!;
        if (variant !== 'queue') await ensureReplicas(variant === 'one' ? 1 : 2);
        for (const [index, workload] of workloads.entries()) {
          parts[index]![variant].push(await measureTarget(variant === 'queue' ? queueGroup! : mesh, sliceOf(workload, r), measureOptions));
        }
      }
    }
    await ensureReplicas(2);
    const one = parts.map((part) => combineResults(part.one, 'mesh-1-replica'));
    const two = parts.map((part) => combineResults(part.two, 'mesh-2-replicas'));
    const queue = queueGroup ? parts.map((part) => combineResults(part.queue, 'mesh-2-replicas-queue-group')) : undefined;
    for (const [index] of workloads.entries()) {
      progress(describeResult(one[index]!));
      progress(describeResult(two[index]!));
      if (queue) progress(describeResult(queue[index]!));
    }

    // Both replicas must really take calls: a burst answered by two different upstream pids.
    const answers = await Promise.all(
      Array.from({ length: 32 }, (_, i) => mesh.callers[i % mesh.callers.length]!.call('hash', { iterations: 1 })),
    );
    const pids = new Set(answers.map((result) => /pid=(\d+)/.exec(JSON.stringify(result.content))?.[1]).filter(Boolean));
    return levels.map((level, index) => {
      const single = one[index]!;
      const double = two[index]!;
      const speedupOf = (result: TargetResult) => (single.callsPerSec > 0 ? round(result.callsPerSec / single.callsPerSec, 2) : 0);
      const speedup = speedupOf(double);
      const random = queue?.[index];
      progress(
        `  fan-out at ~${level.targetMs} ms per call${level.tool === 'block' ? ' (blocking, no CPU)' : ''}: 2 replicas / 1 = ${speedup}x` +
          (random ? ` (queue group: ${speedupOf(random)}x)` : '') +
          ` (replicas answering a burst of 32: ${pids.size})`,
      );
      return {
        tool: level.tool,
        hashIterations: level.iterations,
        hashMs: level.hashMs,
        concurrency: FANOUT_CONCURRENCY,
        one: single,
        two: double,
        speedup,
        ...(random ? { twoQueueGroup: random, queueGroupSpeedup: speedupOf(random) } : {}),
        replicasAnswering: pids.size,
      };
    });
  } finally {
    await mesh.close();
    await queueGroup?.close();
  }

  /** Round `r`'s share of a workload (later rounds warm up briefly: the processes are warm). */
  function sliceOf(workload: Workload, r: number): Workload {
    const slice = { ...workload, maxCalls: Math.ceil(workload.maxCalls / options.rounds), maxMs: workload.maxMs / options.rounds };
    if (r > 0) Object.assign(slice, { warmupCalls: Math.min(workload.warmupCalls, 20), warmupMs: Math.min(workload.warmupMs, 300) });
    return slice;
  }
}
