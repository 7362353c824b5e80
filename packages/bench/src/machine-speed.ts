import { calibrateHashWork, timeHashWork } from './cpu-work.js';

/** A measurement whose probe ran below this share of the run's first probe is flagged as slowed. */
export const SLOWED_BELOW = 0.8;

let probe: { iterations: number; baselineMs: number } | undefined;

/**
 * The machine's CPU speed now, relative to the first call in this process: a fixed ~2 ms of
 * hashing in the load generator, the fastest of 3 runs. On the reference VM, sustained CPU-bound
 * work is at times slowed ~4 × after 10–20 s by something outside the guest (docs/performance.md,
 * finding 9; a fresh process ran at ~55 % during such a spell); a measurement taken then is
 * flagged instead of read as the target's speed.
 */
export function machineSpeed(): number {
  if (!probe) {
    const iterations = calibrateHashWork(2);
    probe = { iterations, baselineMs: timeHashWork(iterations, 3) };
    return 1;
  }
  const now = timeHashWork(probe.iterations, 3);
  return Math.round((probe.baselineMs / now) * 100) / 100;
}
