import { setTimeout as delay } from 'node:timers/promises';

import { machineCpu } from './proc-stats.js';

/** Length of one look at the machine's CPU use (10 ms ticks: 25 per core). */
export const QUIET_SAMPLE_MS = 250;

/**
 * Waits until the machine is quiet: less than `maxBusyPercent` of all cores busy over a
 * `sampleMs` window (the harness's own processes are idle between measurements), or until
 * `maxWaitMs` has passed. Answers the busy share of the last window, so a noisy result can be
 * flagged instead of silently published.
 */
export async function waitForQuiet(
  maxWaitMs: number,
  maxBusyPercent = 15,
  sampleMs = QUIET_SAMPLE_MS,
): Promise<{ busyPercent: number; waitedMs: number }> {
  const started = Date.now();
  for (;;) {
    const before = machineCpu();
    await delay(sampleMs);
    const after = machineCpu();
    const total = after.totalMs - before.totalMs;
    const busyPercent = total > 0 ? Math.round((100 * (after.busyMs - before.busyMs)) / total) : 0;
    const waitedMs = Date.now() - started;
    if (busyPercent < maxBusyPercent || waitedMs >= maxWaitMs) return { busyPercent, waitedMs };
  }
}
