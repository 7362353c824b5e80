import { spawn } from 'node:child_process';
import { once } from 'node:events';

import { calibrateHashWork, timeHashWork } from './cpu-work.js';
import { median } from './load.js';

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

/**
 * Median round trip, in microseconds, of one byte through a child Node process over pipes: the
 * cost of waking another process and being woken back, which every hop of a proxy pays twice per
 * call. The hashing probe above does not see it: on the reference VM it was 69–130 µs through a
 * session in which hashing ran only 1.3–1.9 × slower than in the reference run while the mesh's
 * CPU per call was 5–9 × higher (the mesh has more hops per call than a single-hop proxy).
 */
export async function wakeupRoundTripUs(trips = 400): Promise<number> {
  const child = spawn(process.execPath, ['-e', "process.stdin.on('data', (d) => process.stdout.write(d))"], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  try {
    await once(child, 'spawn');
    const times: number[] = [];
    for (let i = 0; i < trips + 20; i++) {
      const started = process.hrtime.bigint();
      const echoed = once(child.stdout, 'data');
      child.stdin.write('x');
      await echoed;
      // The first round trips include the child's start-up.
      if (i >= 20) times.push(Number(process.hrtime.bigint() - started) / 1000);
    }
    return Math.round(median(times));
  } finally {
    child.kill();
  }
}
