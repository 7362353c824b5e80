import { describe, expect, it } from 'vitest';
import { machineSpeed } from '../../packages/bench/src/machine-speed.js';
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
