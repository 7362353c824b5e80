import { median, round } from './load.js';
import type { BenchReport, TargetCheck } from './results.js';

/** The roles whose memory the soak follows (the upstream and the load generator are not the mesh's). */
export const SOAK_ROLES = ['ingress', 'bridge', 'nats-server'] as const;
/** The roles the issue's memory target is about. */
export const SOAK_TARGET_ROLES = ['ingress', 'bridge'] as const;

/** The issue's bound, and what "no growth" means here (written the same way in docs/performance.md). */
export const SOAK_LIMITS = {
  /** Peak RSS of the ingress and of the bridge over the whole soak, warm-up included. */
  maxRssMB: 150,
  /** Least-squares slope of RSS over the steady part (after warm-up). */
  maxSlopeMBPerMin: 1,
  /** RSS at the end (median of the last window) over RSS after warm-up (median of the first window after it). */
  maxEndOverPostWarmup: 1.1,
} as const;

/** One look at the processes, about once a second. */
export interface SoakSample {
  /** Seconds since the load started. */
  t: number;
  /** Successful calls so far (approximate between periods: updated about once a second). */
  calls: number;
  /** VmRSS per role, MB. */
  rssMB: Record<string, number>;
}

/** One line of the memory probe inside a process (`process.memoryUsage()` and V8's heap spaces), MB. */
export interface SoakHeapSample {
  t: number;
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  /** Young generation (new_space size: both semi-spaces as V8 reports them). */
  newSpace: number;
  oldSpace: number;
  largeObjects: number;
  code: number;
}

export interface SoakPeriod {
  phase: 'warm-up' | 'steady';
  fromS: number;
  toS: number;
  calls: number;
  errors: number;
  callsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Peak RSS per role in this period (sampled every 100 ms), MB. */
  peakRssMB: Record<string, number>;
  cpuUsPerCall: Record<string, number>;
  /** CPU used by processes outside the benchmark, % of all cores. */
  foreignCpuPercent: number;
}

export interface SoakRoleSummary {
  role: string;
  peakMB: number;
  /** Median RSS over the first `windowSeconds` after the warm-up. */
  postWarmupMB: number;
  /** Median RSS over the last `windowSeconds`. */
  endMB: number;
  /** Least-squares slope of RSS against time over the steady part, MB per minute. */
  slopeMBPerMin: number;
}

export interface SoakReport {
  version: 1;
  mode: 'soak';
  createdAt: string;
  machine: BenchReport['machine'];
  revision: string;
  settings: {
    minutes: number;
    warmupSeconds: number;
    periodSeconds: number;
    windowSeconds: number;
    sampleMs: number;
    tool: string;
    args: Record<string, unknown>;
    concurrency: number;
    sessions: number;
    ingressNodeArgs: string[];
    ingressArgs: string[];
  };
  totals: { calls: number; errors: number; firstError?: string; callsPerSec: number; foreignCpuPercent: number };
  periods: SoakPeriod[];
  summary: SoakRoleSummary[];
  checks: TargetCheck[];
  samples: SoakSample[];
  /** Memory probe lines of the ingress and the bridge, when they could be read. */
  heap: Record<string, SoakHeapSample[]>;
}

/** Least-squares slope of y against x (0 with fewer than two distinct x). */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((sum, p) => sum + p.x, 0) / n;
  const my = points.reduce((sum, p) => sum + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** Peak, post-warm-up and end RSS and the steady slope of one role. */
export function summariseRole(
  role: string,
  samples: readonly SoakSample[],
  periods: readonly SoakPeriod[],
  warmupS: number,
  windowS: number,
): SoakRoleSummary {
  const series = samples.filter((s) => s.rssMB[role] !== undefined && s.rssMB[role]! > 0).map((s) => ({ t: s.t, mb: s.rssMB[role]! }));
  const steady = series.filter((s) => s.t >= warmupS);
  const endS = series.at(-1)?.t ?? 0;
  const peak = Math.max(0, ...series.map((s) => s.mb), ...periods.map((p) => p.peakRssMB[role] ?? 0));
  return {
    role,
    peakMB: round(peak, 1),
    postWarmupMB: round(median(steady.filter((s) => s.t <= warmupS + windowS).map((s) => s.mb)), 1),
    endMB: round(median(series.filter((s) => s.t >= endS - windowS).map((s) => s.mb)), 1),
    slopeMBPerMin: round(slope(steady.map((s) => ({ x: s.t / 60, y: s.mb }))), 2),
  };
}

/** The issue's two memory targets over the soak: the bound and "no growth", for the ingress and the bridge. */
export function soakChecks(summary: readonly SoakRoleSummary[]): TargetCheck[] {
  const roles = summary.filter((s) => (SOAK_TARGET_ROLES as readonly string[]).includes(s.role));
  if (roles.length < SOAK_TARGET_ROLES.length) {
    return [
      { id: 'soak-rss', description: 'peak RSS during the soak, MB', value: null, threshold: `< ${SOAK_LIMITS.maxRssMB}`, met: null },
      { id: 'soak-growth', description: 'RSS growth during the soak', value: null, threshold: 'no growth', met: null },
    ];
  }
  const peak = Math.max(...roles.map((s) => s.peakMB));
  const worstSlope = Math.max(...roles.map((s) => s.slopeMBPerMin));
  const grows = (s: SoakRoleSummary) =>
    s.slopeMBPerMin >= SOAK_LIMITS.maxSlopeMBPerMin || s.endMB > s.postWarmupMB * SOAK_LIMITS.maxEndOverPostWarmup;
  const detail = (s: SoakRoleSummary) => `${s.role} ${s.slopeMBPerMin} MB/min, end ${s.endMB} vs ${s.postWarmupMB} MB after warm-up`;
  return [
    {
      id: 'soak-rss',
      description: `peak RSS during the soak at c=64, MB (${roles.map((s) => `${s.role} ${s.peakMB}`).join(', ')})`,
      value: peak,
      threshold: `< ${SOAK_LIMITS.maxRssMB}`,
      met: peak < SOAK_LIMITS.maxRssMB,
    },
    {
      id: 'soak-growth',
      description: `RSS growth after warm-up, MB/min (${roles.map(detail).join('; ')})`,
      value: worstSlope,
      threshold: `slope < ${SOAK_LIMITS.maxSlopeMBPerMin} MB/min and end <= ${SOAK_LIMITS.maxEndOverPostWarmup} x post-warm-up`,
      met: !roles.some(grows),
    },
  ];
}
