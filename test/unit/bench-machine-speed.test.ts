import { describe, expect, it } from 'vitest';
import { machineSpeed, wakeupRoundTripUs } from '../../packages/bench/src/machine-speed.js';
import { machineLine } from '../../packages/bench/src/markdown.js';
import { slowedRounds } from '../../packages/bench/src/run-target.js';
import { resultsTable } from '../../packages/bench/src/markdown.js';
import type { BenchReport, TargetResult } from '../../packages/bench/src/results.js';

describe("the bench's machine-speed probe", () => {
  it('is 1 at its first call and near 1 on an unchanged machine', () => {
    expect(machineSpeed()).toBe(1);
    const later = machineSpeed();
    expect(later).toBeGreaterThan(0.3);
    expect(later).toBeLessThan(3);
  });

  it('times a process wake-up round trip through a real child process', async () => {
    const us = await wakeupRoundTripUs(50);
    expect(Number.isInteger(us)).toBe(true);
    // A pipe round trip between two processes: more than a microsecond, far less than a second.
    expect(us).toBeGreaterThan(1);
    expect(us).toBeLessThan(1_000_000);
  });

  it('states the wake-up round trip in the machine line', () => {
    const report = {
      machine: {
        cpus: 2,
        cpuModel: 'cpu',
        memoryGB: 1,
        os: 'linux',
        node: 'v20',
        natsServer: 'v2',
        loadAverageAtStart: 0,
        wakeupRoundTripUs: { start: 31, end: 128 },
        hashMsPer1000: 0.98,
      },
      settings: { sessions: 4, rounds: 3, secondsPerWorkload: 6, maxCallsPerWorkload: 1, warmupSeconds: 1, warmupCalls: 1 },
      revision: 'abc',
      mode: 'full',
      createdAt: 'now',
    } as unknown as BenchReport;
    expect(machineLine(report)).toContain(
      '1 000 rounds of the fan-out hashing in 0.98 ms; process wake-up round trip 31 µs at start, 128 µs at end',
    );
  });

  it('names the rounds a slowed machine ran', () => {
    const result = { roundsMachineSpeed: [1, 0.95, 0.26] } as Parameters<typeof slowedRounds>[0];
    expect(slowedRounds(result)).toBe('round 3 at 0.26');
  });

  it('marks a slowed round in the results table', () => {
    const row = {
      target: 'mesh',
      workload: 'echo-c16',
      tool: 'echo',
      concurrency: 16,
      sessions: 4,
      calls: 3,
      errors: 0,
      elapsedMs: 1,
      callsPerSec: 3,
      latencyMs: { p50: 1, p95: 1, p99: 1, mean: 1, max: 1 },
      foreignCpuPercent: 0,
      roundsCallsPerSec: [190, 187, 46],
      roundsMachineSpeed: [1, 0.97, 0.26],
      processes: [],
    } satisfies TargetResult;
    const table = resultsTable({ results: [row] } as unknown as BenchReport);
    expect(table).toContain('190 / 187 / 46 (machine ×0.26) |');
  });
});
