import { execFileSync } from 'node:child_process';
import { cpus, loadavg, release, totalmem, platform } from 'node:os';

import { findNatsServerBinary, fixtureServerCommand } from '@mcp-mesh/testing';

import { BENCH_PROTOCOL_VERSION } from './jsonrpc.js';
import { REPO_ROOT } from './paths.js';
import { round } from './load.js';
import type { BenchOptions } from './options.js';
import { runFanout } from './fanout.js';
import { wakeupRoundTripUs } from './machine-speed.js';
import { timeHashWork } from './cpu-work.js';
import { runProfile } from './profile.js';
import { checks, ratios, type BenchReport, type TargetResult } from './results.js';
import { describeResult, measureInterleaved, measureTarget, type Progress } from './run-target.js';
import { startDirect, startDirectSdk } from './targets/direct.js';
import { startMesh, type MeshTarget } from './targets/mesh.js';
import { startLeanIngress, startMeshBus } from './targets/mesh-variants.js';
import { startSdkHttp } from './targets/sdk-http.js';
import { startSupergateway } from './targets/supergateway.js';
import type { BenchTarget } from './targets/target.js';
import { boundedWorkload, WORKLOAD_SPECS, workloadsFor } from './workloads.js';

export interface SuiteHooks {
  /** One line per step and per finished measurement. */
  progress: Progress;
  /** About once a second during a measurement (e.g. only on a terminal). */
  tick?: Progress;
}

/** The server name of the fixture on every target. */
export const BENCH_SERVER = 'bench';

/**
 * Runs every selected target and workload, the fan-out and the profile; returns the report. The
 * compared targets are all started first and measured interleaved, workload by workload.
 */
export async function runSuite(options: BenchOptions, hooks: SuiteHooks): Promise<BenchReport> {
  const { progress } = hooks;
  const machineInfo = machine();
  const wakeupAtStart = await wakeupRoundTripUs();
  progress(`machine: process wake-up round trip ${wakeupAtStart} µs (median over pipes; see docs/performance.md)`);
  const revision = meshRevision(options.meshCli);
  const upstream = fixtureServerCommand({ name: BENCH_SERVER });
  const cli = options.meshCli === undefined ? {} : { cli: options.meshCli };
  const wanted = new Set(options.targets);
  const measureOptions = {
    ...(hooks.tick ? { tick: hooks.tick } : {}),
    quietWaitMs: options.quietWaitSeconds * 1000,
    quietBudget: { remainingMs: options.quietBudgetSeconds * 1000 },
  };

  const started: BenchTarget[] = [];
  const measured: BenchTarget[] = [];
  const start = async (id: string, starter: () => Promise<BenchTarget>, measure = true) => {
    progress(`▶ ${id}: starting`);
    const target = await starter();
    started.push(target);
    if (measure) measured.push(target);
    return target;
  };
  const results: TargetResult[] = [];
  try {
    if (wanted.has('direct')) await start('direct', () => startDirect(upstream));
    if (wanted.has('direct-sdk')) await start('direct-sdk', () => startDirectSdk(upstream));
    if (wanted.has('supergateway')) {
      await start('supergateway', () => startSupergateway({ upstream, sessions: options.sessions, mode: 'stateful' }));
    }
    if (wanted.has('mesh')) await start('mesh', () => startMesh({ server: BENCH_SERVER, upstream, sessions: options.sessions, ...cli }));
    if (wanted.has('mesh-bus') || wanted.has('lean-ingress')) {
      // The diagnostic variants get a mesh of their own (nats-server, bridge, upstream), so that
      // their load never shows up in the memory or CPU figures of the real mesh's processes.
      const aux = (await start(
        'mesh (for mesh-bus and lean-ingress)',
        () => startMesh({ server: BENCH_SERVER, upstream, sessions: 0, ...cli }),
        false,
      )) as MeshTarget;
      if (wanted.has('mesh-bus')) await start('mesh-bus', () => startMeshBus(aux, BENCH_SERVER, options.sessions));
      if (wanted.has('lean-ingress')) await start('lean-ingress', () => startLeanIngress(aux, BENCH_SERVER, options.sessions));
    }
    if (wanted.has('sdk-http')) {
      await start('sdk-http-sse', () => startSdkHttp({ sessions: options.sessions, json: false }));
      await start('sdk-http-json', () => startSdkHttp({ sessions: options.sessions, json: true }));
    }
    for (const spec of WORKLOAD_SPECS) {
      const targets = measured.filter((target) => workloadsFor(target.id).includes(spec.id));
      if (targets.length === 0) continue;
      progress(`■ ${spec.id}: ${targets.map((target) => target.id).join(', ')} interleaved in ${options.rounds} rounds`);
      for (const result of await measureInterleaved(targets, boundedWorkload(spec, options), options.rounds, measureOptions)) {
        results.push(result);
        progress(describeResult(result));
      }
    }
  } finally {
    for (const target of started.reverse()) await target.close();
  }

  // A process per request: measured on its own, after everything else has stopped.
  if (wanted.has('supergateway-stateless')) {
    const target = await start('supergateway-stateless', () => startSupergateway({ upstream, sessions: 1, mode: 'stateless' }));
    try {
      for (const id of workloadsFor(target.id)) {
        const spec = WORKLOAD_SPECS.find((candidate) => candidate.id === id)!;
        const result = await measureTarget(target, boundedWorkload(spec, options), measureOptions);
        results.push(result);
        progress(describeResult(result));
      }
    } finally {
      await target.close();
    }
  }
  const described: BenchReport['targets'] = measured.map((target) => ({ id: target.id, description: target.description }));
  if (wanted.has('supergateway-stateless')) described.push({ id: 'supergateway-stateless', description: started.at(-1)!.description });

  const fanout = wanted.has('fanout')
    ? await runFanout(options, options.quick ? [5] : [5, 20], progress, measureOptions, options.quick ? undefined : 20)
    : undefined;
  if (fanout)
    described.push({ id: 'fanout', description: 'mcp-mesh with the CPU-bound bench server, 1 and 2 bridge replicas interleaved' });
  const profile = options.profile ? await runProfile(options, upstream, progress) : undefined;
  const wakeupAtEnd = await wakeupRoundTripUs();
  progress(`machine: process wake-up round trip ${wakeupAtEnd} µs at the end (${wakeupAtStart} µs at the start)`);

  return {
    version: 1,
    createdAt: new Date().toISOString(),
    mode: options.quick ? 'quick' : 'full',
    machine: { ...machineInfo, wakeupRoundTripUs: { start: wakeupAtStart, end: wakeupAtEnd } },
    revision,
    settings: {
      sessions: options.sessions,
      rounds: options.rounds,
      secondsPerWorkload: options.seconds,
      maxCallsPerWorkload: options.maxCalls,
      warmupSeconds: options.warmupSeconds,
      warmupCalls: options.warmupCalls,
      protocolVersion: BENCH_PROTOCOL_VERSION,
    },
    targets: described,
    results,
    ...(fanout ? { fanout } : {}),
    ratios: ratios(results),
    checks: checks(results, fanout),
    ...(profile ? { profile } : {}),
  };
}

/** The revision of the mesh being measured: the commit, and whether packages/ had uncommitted changes. */
export function meshRevision(meshCli: string | undefined): string {
  if (meshCli !== undefined) return `custom CLI build ${meshCli}`;
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'packages'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    return dirty === '' ? commit : `${commit} + uncommitted changes in packages/`;
  } catch {
    return 'unknown';
  }
}

export function machine(): BenchReport['machine'] {
  const binary = findNatsServerBinary();
  let natsServer = 'unknown';
  if (binary) {
    try {
      natsServer = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
    } catch {
      // keep "unknown"
    }
  }
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGB: round(totalmem() / 1024 ** 3, 1),
    os: `${platform()} ${release()}`,
    node: process.version,
    natsServer,
    loadAverageAtStart: round(loadavg()[0] ?? 0, 2),
    hashMsPer1000: round(timeHashWork(1_000), 3),
  };
}
