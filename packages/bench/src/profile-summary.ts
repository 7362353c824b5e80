import { readFile } from 'node:fs/promises';

import { round } from './load.js';

/** The parts of V8's `.cpuprofile` JSON (written by `node --cpu-prof`) that are read here. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface FunctionCost {
  function: string;
  /** Source, shortened to the package (e.g. `@modelcontextprotocol/core/dist/index.mjs:812`). */
  location: string;
  selfMs: number;
  /** Share of the process's busy (non-idle) time in the window. */
  percent: number;
}

export interface ProcessProfile {
  process: string;
  windowMs: number;
  busyMs: number;
  /** Sampled (non-idle) time as a share of the window: 100 = one core. */
  sampledPercent: number;
  calls: number;
  /**
   * Sampled time per call. V8 samples on a wall-clock timer, so time the main thread was runnable
   * but preempted (common on 2 cores with 5 busy processes) lands in the frame it was preempted
   * in, mostly the socket writes that woke a peer: compare with `cpuUsPerCall`.
   */
  sampledUsPerCall: number;
  /** CPU time per call from /proc (user + system) during the same window. */
  cpuUsPerCall: number;
  /** Self time by origin: a package, "node internals", "gc", "program". */
  byOrigin: { origin: string; selfMs: number; percent: number }[];
  top: FunctionCost[];
}

export interface ProfileSummary {
  workload: string;
  note: string;
  processes: ProcessProfile[];
}

/**
 * Self time per function (and per origin) from a `.cpuprofile`, restricted to the measurement
 * window given in microseconds of the monotonic clock (`process.hrtime`, the clock V8 stamps
 * profiles with on Linux). Falls back to the whole profile when the window does not overlap it.
 */
export async function summariseProfile(
  file: string,
  name: string,
  window: { startUs: number; endUs: number },
  calls: number,
  cpuUsPerCall: number,
  topN = 15,
): Promise<ProcessProfile> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const inWindow = window.startUs < profile.endTime && window.endUs > profile.startTime;
  const from = inWindow ? window.startUs : profile.startTime;
  const to = inWindow ? window.endUs : profile.endTime;

  const selfUs = new Map<number, number>();
  let time = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    time += profile.timeDeltas[i] ?? 0;
    if (time < from || time > to) continue;
    // A sample's cost is the time until the next sample.
    const delta = profile.timeDeltas[i + 1] ?? 0;
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  }

  const byFunction = new Map<string, { fn: string; location: string; us: number }>();
  const byOrigin = new Map<string, number>();
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const frame = nodes.get(id);
    if (!frame || frame.functionName === '(idle)') continue;
    busyUs += us;
    const location = shortLocation(frame.url, frame.lineNumber);
    const key = `${frame.functionName}@${location}`;
    const entry = byFunction.get(key) ?? { fn: frame.functionName || '(anonymous)', location, us: 0 };
    entry.us += us;
    byFunction.set(key, entry);
    const origin = originOf(frame.functionName, frame.url);
    byOrigin.set(origin, (byOrigin.get(origin) ?? 0) + us);
  }
  const percent = (us: number) => (busyUs > 0 ? round((100 * us) / busyUs, 1) : 0);
  const windowMs = (to - from) / 1000;
  return {
    process: name,
    windowMs: round(windowMs, 0),
    busyMs: round(busyUs / 1000, 0),
    sampledPercent: windowMs > 0 ? round((100 * busyUs) / 1000 / windowMs, 1) : 0,
    calls,
    sampledUsPerCall: calls > 0 ? round(busyUs / calls, 1) : 0,
    cpuUsPerCall,
    byOrigin: [...byOrigin.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([origin, us]) => ({ origin, selfMs: round(us / 1000, 1), percent: percent(us) })),
    top: [...byFunction.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, topN)
      .map((entry) => ({ function: entry.fn, location: entry.location, selfMs: round(entry.us / 1000, 1), percent: percent(entry.us) })),
  };
}

function shortLocation(url: string, line: number): string {
  if (url === '') return '';
  const modules = url.lastIndexOf('node_modules/');
  let path = modules === -1 ? url : url.slice(modules + 'node_modules/'.length);
  const packages = path.indexOf('/packages/');
  if (modules === -1 && packages !== -1) path = path.slice(packages + 1);
  path = path.replace(/^file:\/\//, '');
  return `${path}:${line + 1}`;
}

function originOf(functionName: string, url: string): string {
  if (functionName === '(garbage collector)') return 'gc';
  if (functionName === '(program)') return 'program (V8/native)';
  if (url === '' || url.startsWith('node:')) return 'node internals';
  const modules = url.lastIndexOf('node_modules/');
  if (modules !== -1) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const packages = /\/packages\/([^/]+)\//.exec(url);
  if (packages) return `mcp-mesh ${packages[1]}`;
  return url;
}
