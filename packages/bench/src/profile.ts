import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { BenchOptions } from './options.js';
import { summariseProfile, type ProfileSummary } from './profile-summary.js';
import { describeResult, measureTarget, type Progress } from './run-target.js';
import type { Upstream } from './targets/direct.js';
import { startMesh } from './targets/mesh.js';
import { boundedWorkload, WORKLOAD_SPECS } from './workloads.js';

const PROFILED_WORKLOAD = 'echo-c16';

function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/**
 * Where the mesh spends CPU: a separate mesh whose ingress and bridge run under
 * `node --cpu-prof`, the echo c=16 workload, then self time per function and per package within
 * the measured window (warm-up excluded). Profiling slows the processes down, so its throughput
 * is not part of the results table.
 */
export async function runProfile(options: BenchOptions, upstream: Upstream, progress: Progress): Promise<ProfileSummary> {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-mesh-bench-prof-'));
  try {
    progress(`▶ profile: ingress and bridge under node --cpu-prof, ${PROFILED_WORKLOAD} for ${options.profileSeconds} s`);
    const spec = WORKLOAD_SPECS.find((candidate) => candidate.id === PROFILED_WORKLOAD)!;
    const workload = boundedWorkload(spec, { ...options, seconds: options.profileSeconds });
    const mesh = await startMesh({
      server: 'bench',
      upstream,
      sessions: options.sessions,
      cpuProfileDir: dir,
      ...(options.meshCli === undefined ? {} : { cli: options.meshCli }),
    });
    const window = { startUs: 0, endUs: 0 };
    let calls = 0;
    let cpu: Record<string, number> = {};
    try {
      // Warm up separately so that the window below holds only measured calls.
      await measureTarget(
        mesh,
        { ...workload, maxMs: workload.warmupMs, warmupCalls: 0, warmupMs: 0 },
        { quietWaitMs: options.quietWaitSeconds * 1000 },
      );
      window.startUs = monotonicUs();
      const result = await measureTarget(mesh, { ...workload, warmupCalls: 0, warmupMs: 0 });
      window.endUs = monotonicUs();
      calls = result.calls;
      cpu = Object.fromEntries(result.processes.map((p) => [p.role, p.cpuUsPerCall]));
      progress(`${describeResult({ ...result, target: 'mesh (profiled)' })}`);
    } finally {
      await mesh.close();
    }
    const processes = [];
    for (const [name, file] of [
      ['ingress', 'ingress.cpuprofile'],
      ['bridge', 'bridge-1.cpuprofile'],
    ] as const) {
      const path = join(dir, file);
      if (!existsSync(path)) {
        progress(`  (no profile written by the ${name}: ${file} is missing)`);
        continue;
      }
      const summary = await summariseProfile(path, name, window, calls, cpu[name] ?? 0);
      processes.push(summary);
      progress(`  ${name}: ${summary.cpuUsPerCall} µs CPU per call (/proc), ${summary.sampledUsPerCall} µs sampled; top self time:`);
      for (const origin of summary.byOrigin.slice(0, 6)) progress(`    ${origin.percent.toFixed(1).padStart(5)}%  ${origin.origin}`);
      for (const fn of summary.top.slice(0, 8)) progress(`    ${fn.percent.toFixed(1).padStart(5)}%  ${fn.function}  ${fn.location}`);
    }
    return {
      workload: PROFILED_WORKLOAD,
      note:
        'self time within the measured window of a separate profiled run (node --cpu-prof slows the processes down); ' +
        'samples are wall-clock, so time preempted after a socket write that woke a peer counts as write time',
      processes,
    };
  } finally {
    if (options.keepProfiles) {
      await cp(dir, options.keepProfiles, { recursive: true });
      progress(`  raw profiles kept in ${options.keepProfiles}`);
    }
    await rm(dir, { recursive: true, force: true });
  }
}
