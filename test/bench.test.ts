import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { measure, measureTarget, startMesh, type MeshTarget } from '@mcp-mesh/bench';
import { fixtureServerCommand } from '@mcp-mesh/testing';

import { TestProcess } from './support/processes.js';
import { REPO_ROOT } from './support/paths.js';

// The benchmark harness on a tiny workload against a real mesh (nats-server, ingress and bridge
// processes). Only the shape of the result and that every call succeeded are checked: speed is
// never asserted in tests.
describe('bench harness against mcp-mesh', () => {
  let mesh: MeshTarget;

  beforeAll(async () => {
    mesh = await startMesh({ server: 'bench', upstream: fixtureServerCommand({ name: 'bench' }), sessions: 2 });
  });
  afterAll(async () => mesh?.close());

  const workload = {
    id: 'echo-tiny',
    tool: 'echo',
    args: { text: 'hello bench' },
    concurrency: 2,
    maxCalls: 20,
    maxMs: 10_000,
    warmupCalls: 4,
    warmupMs: 2_000,
  };

  it('measures 20 echo calls at concurrency 2 over two sessions, all successful', async () => {
    const result = await measure(mesh.callers, workload);
    expect(result).toMatchObject({ workload: 'echo-tiny', tool: 'echo', concurrency: 2, sessions: 2, calls: 20, errors: 0 });
    expect(result.firstError).toBeUndefined();
    expect(result.callsPerSec).toBeGreaterThan(0);
    for (const key of ['p50', 'p95', 'p99', 'mean', 'max'] as const) expect(result.latencyMs[key]).toBeGreaterThan(0);
    expect(result.latencyMs.p50).toBeLessThanOrEqual(result.latencyMs.p99);
  });

  it('reports RSS and CPU of the ingress, bridge, nats-server and upstream processes', async () => {
    const result = await measureTarget(mesh, { ...workload, warmupCalls: 0 });
    expect(result.errors).toBe(0);
    expect(result.calls).toBe(20);
    const roles = result.processes.map((p) => p.role);
    expect(roles).toEqual(['ingress', 'bridge', 'nats-server', 'upstream', 'load-generator']);
    // The machine-speed probe ran around the measurement (1 = as fast as at its first probe).
    expect(result.roundsMachineSpeed).toHaveLength(1);
    expect(result.roundsMachineSpeed![0]).toBeGreaterThan(0);
    for (const process of result.processes) {
      expect(process.peakRssMB).toBeGreaterThan(0);
      expect(process.cpuUsPerCall).toBeGreaterThanOrEqual(0);
    }
  });

  it('counts a failing tool as an error, not as a fast call', async () => {
    const result = await measure(mesh.callers, { ...workload, tool: 'fail', args: { message: 'no' }, maxCalls: 4, warmupCalls: 0 });
    expect(result.calls).toBe(0);
    expect(result.errors).toBe(4);
    expect(result.firstError).toMatch(/tool error/);
  });
});

// `npm run bench -- --soak` end to end with the shortest bound: the options parse, the mesh runs
// under load without pause, memory is sampled (and the probe inside ingress and bridge reports),
// and the results file has the summary and both verdicts. Not the figures: a 6 s soak means nothing.
describe('bench --soak', () => {
  it('runs a 6-second soak and writes samples, a summary and the two memory verdicts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bench-soak-test-'));
    try {
      const out = join(dir, 'soak.json');
      const bench = new TestProcess(process.execPath, [
        `${REPO_ROOT}packages/bench/dist/main.js`,
        '--soak',
        '--soak-minutes',
        '0.1',
        '--quiet-wait',
        '0',
        '--no-docs',
        '--out',
        out,
      ]);
      const { code } = await bench.exited;
      expect(code, `${bench.stdout}\n${bench.stderr}`).toBe(0);
      expect(bench.stdout).toContain('No growth means');
      const report = JSON.parse(await readFile(out, 'utf8'));
      expect(report).toMatchObject({ mode: 'soak', settings: { concurrency: 64, minutes: 0.1 }, totals: { errors: 0 } });
      expect(report.totals.calls).toBeGreaterThan(0);
      expect(report.samples.length).toBeGreaterThanOrEqual(4);
      expect(report.samples.at(-1).rssMB).toEqual({
        ingress: expect.any(Number),
        bridge: expect.any(Number),
        'nats-server': expect.any(Number),
      });
      expect(report.periods.map((p: { phase: string }) => p.phase)).toContain('warm-up');
      expect(report.summary.map((s: { role: string }) => s.role)).toEqual(['ingress', 'bridge', 'nats-server']);
      expect(report.heap.ingress.length).toBeGreaterThan(0);
      expect(report.heap.bridge.length).toBeGreaterThan(0);
      expect(report.checks.map((c: { id: string; met: unknown }) => [c.id, typeof c.met])).toEqual([
        ['soak-rss', 'boolean'],
        ['soak-growth', 'boolean'],
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
