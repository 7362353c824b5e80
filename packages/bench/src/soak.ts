import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import { fixtureServerCommand } from '@mcp-mesh/testing';

import { measureSamples, round, type Workload } from './load.js';
import type { BenchOptions } from './options.js';
import { rssBytes, UsageSampler } from './proc-stats.js';
import { quiet, type Progress } from './run-target.js';
import {
  SOAK_ROLES,
  soakChecks,
  summariseRole,
  type SoakHeapSample,
  type SoakPeriod,
  type SoakReport,
  type SoakSample,
} from './soak-report.js';
import { BENCH_SERVER, machine, meshRevision } from './suite.js';
import { startMesh } from './targets/mesh.js';

const SOAK_CONCURRENCY = 64;
const SAMPLE_MS = 1_000;
const MB = 1024 * 1024;

/** How a soak of `minutes` is cut: warm-up, reporting periods, and the windows the end points are taken over. */
export function soakPlan(minutes: number): { totalMs: number; warmupMs: number; periodMs: number; windowMs: number } {
  const totalMs = minutes * 60_000;
  const warmupMs = Math.min(60_000, Math.max(5_000, totalMs * 0.2));
  const steadyMs = Math.max(0, totalMs - warmupMs);
  return {
    totalMs,
    warmupMs,
    periodMs: steadyMs >= 180_000 ? 60_000 : Math.max(5_000, steadyMs / 4),
    windowMs: Math.min(30_000, Math.max(3_000, steadyMs / 8)),
  };
}

/**
 * The soak: one mesh (nats-server, ingress and bridge processes, as in the main run) under echo
 * at c=64 without pause for `soakMinutes`. VmRSS of ingress, bridge and nats-server is sampled
 * every second; the ingress and the bridge also carry a memory probe (`memory-probe.ts`) that
 * splits their RSS into V8 heap spaces and buffers. The first 20 % (5–60 s) is warm-up; the
 * rest is the steady part the growth verdict is about.
 */
export async function runSoak(options: BenchOptions, progress: Progress): Promise<SoakReport> {
  const plan = soakPlan(options.soakMinutes);
  const machineInfo = machine();
  const revision = meshRevision(options.meshCli);
  const probeDir = await mkdtemp(join(tmpdir(), 'mcp-mesh-bench-soak-'));
  const ingressNodeArgs = options.ingressNodeArgs ?? [];
  const ingressArgs = options.ingressArgs ?? [];
  progress(
    `▶ soak: echo at c=${SOAK_CONCURRENCY} over ${options.sessions} sessions for ${options.soakMinutes} min ` +
      `(warm-up ${plan.warmupMs / 1000} s, periods of ${round(plan.periodMs / 1000, 1)} s)` +
      (ingressNodeArgs.length > 0 ? `; ingress runs with node ${ingressNodeArgs.join(' ')}` : '') +
      (ingressArgs.length > 0 ? `; mcp-mesh ingress ${ingressArgs.join(' ')}` : ''),
  );
  const mesh = await startMesh({
    server: BENCH_SERVER,
    upstream: fixtureServerCommand({ name: BENCH_SERVER }),
    sessions: options.sessions,
    memoryProbeDir: probeDir,
    ingressNodeArgs,
    ingressArgs,
    ...(options.meshCli === undefined ? {} : { cli: options.meshCli }),
  });
  const samples: SoakSample[] = [];
  const periods: SoakPeriod[] = [];
  let firstError: string | undefined;
  let startWall = Date.now();
  try {
    await quiet({ quietWaitMs: options.quietWaitSeconds * 1000 });
    const roles = mesh.watched.filter((role) => (SOAK_ROLES as readonly string[]).includes(role.role));
    let done = 0;
    let live = 0;
    const start = performance.now();
    startWall = Date.now();
    const sample = () => {
      const rssMB: Record<string, number> = {};
      for (const role of roles) rssMB[role.role] = round(role.pids().reduce((sum, pid) => sum + (rssBytes(pid) ?? 0), 0) / MB, 1);
      samples.push({ t: round((performance.now() - start) / 1000, 1), calls: done + live, rssMB });
    };
    sample();
    const timer = setInterval(sample, SAMPLE_MS);
    try {
      for (;;) {
        const elapsed = performance.now() - start;
        const warm = elapsed < plan.warmupMs - 100;
        const length = Math.min(warm ? plan.warmupMs - elapsed : plan.periodMs, plan.totalMs - elapsed);
        if (length < 500) break;
        const workload: Workload = {
          id: `soak-echo-c${SOAK_CONCURRENCY}`,
          tool: 'echo',
          args: { text: 'hello mesh' },
          concurrency: SOAK_CONCURRENCY,
          // Room for 20 000 calls/s; a faster mesh just starts the next period earlier.
          maxCalls: Math.ceil((length / 1000) * 20_000),
          maxMs: length,
          warmupCalls: 0,
          warmupMs: 0,
        };
        const usage = new UsageSampler([...mesh.watched, { role: 'load-generator', pids: () => [process.pid] }]);
        let result;
        let stopped;
        try {
          result = await measureSamples(mesh.callers, workload, { onTick: (calls) => (live = calls) });
        } finally {
          stopped = usage.stop();
        }
        const m = result.measurement;
        done += m.calls;
        live = 0;
        firstError ??= m.firstError;
        const period: SoakPeriod = {
          phase: warm ? 'warm-up' : 'steady',
          fromS: round(elapsed / 1000, 1),
          toS: round((performance.now() - start) / 1000, 1),
          calls: m.calls,
          errors: m.errors,
          callsPerSec: round(m.callsPerSec, 0),
          p50Ms: m.latencyMs.p50,
          p99Ms: m.latencyMs.p99,
          peakRssMB: Object.fromEntries(stopped.processes.map((p) => [p.role, round(p.peakRssBytes / MB, 1)])),
          cpuUsPerCall: Object.fromEntries(stopped.processes.map((p) => [p.role, m.calls > 0 ? round((p.cpuMs * 1000) / m.calls, 0) : 0])),
          foreignCpuPercent: stopped.machine.foreignCpuPercent,
        };
        periods.push(period);
        progress(describePeriod(period));
      }
    } finally {
      clearInterval(timer);
      sample();
    }
  } finally {
    await mesh.close();
  }

  const endS = samples.at(-1)?.t ?? 0;
  const heap: Record<string, SoakHeapSample[]> = {};
  for (const name of ['ingress', 'bridge-1']) {
    const file = join(probeDir, `${name}.jsonl`);
    if (existsSync(file)) heap[name.replace(/-1$/, '')] = parseProbe(await readFile(file, 'utf8'), startWall, endS);
  }
  await rm(probeDir, { recursive: true, force: true });

  const warmupS = plan.warmupMs / 1000;
  const summary = SOAK_ROLES.map((role) => summariseRole(role, samples, periods, warmupS, plan.windowMs / 1000));
  const steady = periods.filter((p) => p.phase === 'steady');
  const measured = steady.length > 0 ? steady : periods;
  const calls = periods.reduce((sum, p) => sum + p.calls, 0);
  const seconds = measured.reduce((sum, p) => sum + (p.toS - p.fromS), 0);
  return {
    version: 1,
    mode: 'soak',
    createdAt: new Date().toISOString(),
    machine: machineInfo,
    revision,
    settings: {
      minutes: options.soakMinutes,
      warmupSeconds: warmupS,
      periodSeconds: round(plan.periodMs / 1000, 1),
      windowSeconds: round(plan.windowMs / 1000, 1),
      sampleMs: SAMPLE_MS,
      tool: 'echo',
      args: { text: 'hello mesh' },
      concurrency: SOAK_CONCURRENCY,
      sessions: options.sessions,
      ingressNodeArgs,
      ingressArgs,
    },
    totals: {
      calls,
      errors: periods.reduce((sum, p) => sum + p.errors, 0),
      ...(firstError === undefined ? {} : { firstError }),
      callsPerSec: seconds > 0 ? round(measured.reduce((sum, p) => sum + p.calls, 0) / seconds, 0) : 0,
      foreignCpuPercent:
        seconds > 0 ? Math.round(measured.reduce((sum, p) => sum + p.foreignCpuPercent * (p.toS - p.fromS), 0) / seconds) : 0,
    },
    periods,
    summary,
    checks: soakChecks(summary),
    samples,
    heap,
  };
}

function parseProbe(text: string, startWall: number, endS: number): SoakHeapSample[] {
  const out: SoakHeapSample[] = [];
  const mb = (bytes: number | undefined) => round((bytes ?? 0) / MB, 1);
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const p = JSON.parse(line) as Record<string, number> & { at: number; spaces: Record<string, { size: number }> };
      const t = round((p.at - startWall) / 1000, 1);
      if (t < 0 || t > endS + 1) continue;
      out.push({
        t,
        rss: mb(p.rss),
        heapTotal: mb(p.heapTotal),
        heapUsed: mb(p.heapUsed),
        external: mb(p.external),
        arrayBuffers: mb(p.arrayBuffers),
        newSpace: mb(p.spaces.new_space?.size),
        oldSpace: mb(p.spaces.old_space?.size),
        largeObjects: mb(p.spaces.large_object_space?.size),
        code: mb(p.spaces.code_space?.size),
      });
    } catch {
      // a torn last line
    }
  }
  return out;
}

function describePeriod(p: SoakPeriod): string {
  const rss = SOAK_ROLES.map((role) => `${role} ${(p.peakRssMB[role] ?? 0).toFixed(0)}`).join(', ');
  const noisy = p.foreignCpuPercent >= 10 ? `  [other load ${p.foreignCpuPercent}%]` : '';
  return (
    `  ${p.phase.padEnd(7)} ${p.fromS.toFixed(0).padStart(4)}–${p.toS.toFixed(0).padEnd(4)} s ${String(p.callsPerSec).padStart(6)} calls/s` +
    `  p50 ${p.p50Ms.toFixed(1)} p99 ${p.p99Ms.toFixed(1)} ms  errors ${p.errors}  peak RSS MB: ${rss}${noisy}`
  );
}
