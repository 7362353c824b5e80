import { execFileSync } from 'node:child_process';
import { cpus, loadavg, release, totalmem, platform } from 'node:os';

import { findNatsServerBinary, fixtureServerCommand } from '@mcp-mesh/testing';

import { BENCH_PROTOCOL_VERSION } from './jsonrpc.js';
import { REPO_ROOT } from './paths.js';
import { round } from './load.js';
import type { BenchOptions } from './options.js';
import { runFanout } from './fanout.js';
import { runProfile } from './profile.js';
import { checks, ratios, type BenchReport, type TargetResult } from './results.js';
import { describeResult, measureTarget, type Progress } from './run-target.js';
import { startDirect, startDirectSdk } from './targets/direct.js';
import { startMesh, type MeshTarget } from './targets/mesh.js';
import { startLeanIngress, startMeshBus } from './targets/mesh-variants.js';
import { startSdkHttp } from './targets/sdk-http.js';
import { startSupergateway } from './targets/supergateway.js';
import type { BenchTarget } from './targets/target.js';
import { boundedWorkload, WORKLOAD_SPECS, workloadsFor } from './workloads.js';

interface Starter {
  id: string;
  start: () => Promise<BenchTarget>;
  /** Start the target only to serve its variants (its own workloads are not wanted). */
  skip?: boolean;
  /** Targets that run while this one is up and use its processes. */
  variants?: Starter[];
}

export interface SuiteHooks {
  /** One line per step and per finished measurement. */
  progress: Progress;
  /** About once a second during a measurement (e.g. only on a terminal). */
  tick?: Progress;
}

/** The server name of the fixture on every target. */
export const BENCH_SERVER = 'bench';

/** Runs every selected target and workload, the fan-out and the profile; returns the report. */
export async function runSuite(options: BenchOptions, hooks: SuiteHooks): Promise<BenchReport> {
  const { progress } = hooks;
  const machineInfo = machine();
  const revision = meshRevision(options.meshCli);
  const upstream = fixtureServerCommand({ name: BENCH_SERVER });
  const cli = options.meshCli === undefined ? {} : { cli: options.meshCli };
  const starters: Starter[] = [];
  const wanted = new Set(options.targets);
  if (wanted.has('direct')) starters.push({ id: 'direct', start: () => startDirect(upstream) });
  if (wanted.has('direct-sdk')) starters.push({ id: 'direct-sdk', start: () => startDirectSdk(upstream) });
  if (wanted.has('supergateway')) {
    starters.push({ id: 'supergateway', start: () => startSupergateway({ upstream, sessions: options.sessions, mode: 'stateful' }) });
  }
  if (wanted.has('supergateway-stateless')) {
    starters.push({ id: 'supergateway-stateless', start: () => startSupergateway({ upstream, sessions: 1, mode: 'stateless' }) });
  }
  const meshVariants = ['mesh', 'mesh-bus', 'lean-ingress'] as const;
  if (meshVariants.some((id) => wanted.has(id))) {
    // One mesh (nats-server, bridge, upstream) serves the ingress and the two diagnostic variants.
    let mesh: MeshTarget | undefined;
    const variants: Starter[] = [];
    if (wanted.has('mesh-bus')) variants.push({ id: 'mesh-bus', start: () => startMeshBus(mesh!, BENCH_SERVER, options.sessions) });
    if (wanted.has('lean-ingress')) {
      variants.push({ id: 'lean-ingress', start: () => startLeanIngress(mesh!, BENCH_SERVER, options.sessions) });
    }
    starters.push({
      id: 'mesh',
      start: async () => (mesh = await startMesh({ server: BENCH_SERVER, upstream, sessions: options.sessions, ...cli })),
      skip: !wanted.has('mesh'),
      variants,
    });
  }
  if (wanted.has('sdk-http')) {
    starters.push({ id: 'sdk-http-sse', start: () => startSdkHttp({ sessions: options.sessions, json: false }) });
    starters.push({ id: 'sdk-http-json', start: () => startSdkHttp({ sessions: options.sessions, json: true }) });
  }

  const results: TargetResult[] = [];
  const described: BenchReport['targets'] = [];
  const baseOptions = { ...(hooks.tick ? { tick: hooks.tick } : {}), quietWaitMs: options.quietWaitSeconds * 1000 };
  // Each target has its own budget of repeats for disturbed measurements (none where the target
  // itself makes the machine look busy, e.g. a process per request).
  const measureOptions = (target?: BenchTarget) => ({
    ...baseOptions,
    retries: { remaining: target?.disturbsMachine ? 0 : options.retries },
  });
  const runWorkloads = async (target: BenchTarget) => {
    described.push({ id: target.id, description: target.description });
    const targetOptions = measureOptions(target);
    for (const id of workloadsFor(target.id)) {
      const spec = WORKLOAD_SPECS.find((candidate) => candidate.id === id)!;
      const result = await measureTarget(target, boundedWorkload(spec, options), targetOptions);
      results.push(result);
      progress(describeResult(result));
    }
  };
  for (const starter of starters) {
    progress(`▶ ${starter.id}: starting`);
    const target = await starter.start();
    try {
      if (!starter.skip) await runWorkloads(target);
      for (const variant of starter.variants ?? []) {
        progress(`▶ ${variant.id}: starting`);
        const derived = await variant.start();
        try {
          await runWorkloads(derived);
        } finally {
          await derived.close();
        }
      }
    } finally {
      await target.close();
    }
  }

  const fanout = wanted.has('fanout') ? await runFanout(options, options.quick ? [5] : [5, 20], progress, measureOptions()) : undefined;
  if (fanout) described.push({ id: 'fanout', description: 'mcp-mesh with the CPU-bound bench server, 1 then 2 bridge replicas' });
  const profile = options.profile ? await runProfile(options, upstream, progress) : undefined;

  return {
    version: 1,
    createdAt: new Date().toISOString(),
    mode: options.quick ? 'quick' : 'full',
    machine: machineInfo,
    revision,
    settings: {
      sessions: options.sessions,
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
function meshRevision(meshCli: string | undefined): string {
  if (meshCli !== undefined) return `custom CLI build ${meshCli}`;
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'packages'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    return dirty === '' ? commit : `${commit} + uncommitted changes in packages/`;
  } catch {
    return 'unknown';
  }
}

function machine(): BenchReport['machine'] {
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
  };
}
