import { performance } from 'node:perf_hooks';

const BLOCK = new Uint8Array(1024).map((_, i) => (i * 31 + 7) & 0xff);

/**
 * Fixed CPU work: `iterations` rounds of FNV-1a over 1 KiB, chained. Plain integer arithmetic on
 * one preallocated buffer: no allocation, so no garbage-collector threads join in and the cost
 * stays on one core. Fixed work (not "spin for N ms") so that CPU contention shows up as lower
 * throughput instead of being hidden.
 */
export function hashWork(iterations: number): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < iterations; i++) {
    for (let j = 0; j < BLOCK.length; j++) {
      hash ^= BLOCK[j]!;
      hash = Math.imul(hash, 0x01000193);
    }
    hash ^= i;
  }
  return (hash >>> 0).toString(16).padStart(8, '0');
}

/** Fastest of `runs` timings of `hashWork(iterations)`, milliseconds (the least disturbed by other load). */
export function timeHashWork(iterations: number, runs = 7): number {
  let best = Number.POSITIVE_INFINITY;
  for (let run = 0; run < runs; run++) {
    const start = performance.now();
    hashWork(iterations);
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

/**
 * Iterations of `hashWork` that take about `targetMs` of CPU on this machine. Timed as the
 * fastest of several runs, so other processes competing for the CPU do not inflate the estimate.
 */
export function calibrateHashWork(targetMs: number): number {
  hashWork(5_000); // warm up (and let the JIT optimise the loop)
  const probe = 5_000;
  const perIteration = timeHashWork(probe) / probe;
  return Math.max(1, Math.round(targetMs / perIteration));
}
