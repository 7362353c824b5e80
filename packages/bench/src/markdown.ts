import type { BenchReport, TargetCheck, TargetResult } from './results.js';
import { SLOWED_BELOW } from './machine-speed.js';

const TARGET_ORDER = ['direct', 'direct-sdk', 'supergateway', 'supergateway-stateless', 'mesh', 'sdk-http-sse', 'sdk-http-json'];

function fixed(value: number | null | undefined, digits: number): string {
  return value === null || value === undefined ? '–' : value.toFixed(digits);
}

/** A process role as table cells name it. */
export function short(role: string): string {
  return role === 'nats-server' ? 'nats' : role;
}

function cpu(result: TargetResult, role: string): string {
  const process = result.processes.find((p) => p.role === role);
  return process ? `${process.cpuUsPerCall.toFixed(0)}` : '';
}

/** The results table: one row per target and workload. */
export function resultsTable(report: BenchReport): string {
  const rows = [...report.results].sort(
    (a, b) => a.workload.localeCompare(b.workload) || TARGET_ORDER.indexOf(a.target) - TARGET_ORDER.indexOf(b.target),
  );
  const lines = [
    '| workload | target | calls/s | p50 ms | p95 ms | p99 ms | errors | proxy peak RSS MB | proxy CPU µs/call | upstream CPU µs/call | client CPU µs/call | other load % | calls/s per round |',
    '|---|---|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---|',
  ];
  for (const r of rows) {
    const proxies = r.processes.filter((p) => p.role !== 'upstream' && p.role !== 'load-generator');
    const proxyRss = proxies.length === 0 ? '–' : proxies.map((p) => `${short(p.role)} ${p.peakRssMB.toFixed(0)}`).join(', ');
    const proxyCpu = proxies.length === 0 ? '–' : proxies.map((p) => `${short(p.role)} ${p.cpuUsPerCall.toFixed(0)}`).join(', ');
    lines.push(
      `| ${r.workload} | ${r.target} | ${r.callsPerSec.toFixed(0)} | ${fixed(r.latencyMs.p50, 2)} | ${fixed(r.latencyMs.p95, 2)} | ` +
        `${fixed(r.latencyMs.p99, 2)} | ${r.errors} | ${proxyRss} | ${proxyCpu} | ${cpu(r, 'upstream') || '–'} | ` +
        `${cpu(r, 'load-generator')} | ${r.foreignCpuPercent} | ${roundsCell(r)} |`,
    );
  }
  return lines.join('\n');
}

export function ratiosTable(report: BenchReport): string {
  const lines = [
    '| workload | calls/s mesh / supergateway | calls/s mesh / direct | p50 mesh − direct (ms) | p50 mesh / supergateway |',
    '|---|---:|---:|---:|---:|',
  ];
  for (const r of report.ratios) {
    lines.push(
      `| ${r.workload} | ${fixed(r.meshVsSupergatewayThroughput, 2)} | ${fixed(r.meshVsDirectThroughput, 2)} | ` +
        `${fixed(r.meshMinusDirectP50Ms, 3)} | ${fixed(r.meshVsSupergatewayP50, 2)} |`,
    );
  }
  return lines.join('\n');
}

export function fanoutTable(report: BenchReport): string {
  const levels = report.fanout;
  if (!levels || levels.length === 0) return '_fan-out not measured in this run_';
  const lines = [
    `Fan-out, CPU-bound tool \`hash\` (chained FNV-1a over 1 KiB, no allocation), concurrency ${levels[0]!.concurrency}:`,
    '',
    '| CPU per call | bridges | calls/s | p50 ms | p99 ms | errors | upstream CPU µs/call | other load % | calls/s per round | speedup |',
    '|---|---|---:|---:|---:|---:|---:|---:|---|---:|',
  ];
  for (const f of levels) {
    const cost = f.tool === 'block' ? `${f.hashMs} ms blocked, no CPU` : `${f.hashMs} ms (${f.hashIterations} rounds)`;
    const row = (label: string, r: TargetResult, speedup: string) =>
      `| ${cost} | ${label} | ${r.callsPerSec.toFixed(0)} | ${fixed(r.latencyMs.p50, 2)} | ${fixed(r.latencyMs.p99, 2)} | ${r.errors} | ` +
      `${cpu(r, 'upstream')} | ${r.foreignCpuPercent} | ${roundsCell(r)} | ${speedup} |`;
    lines.push(row('1 replica', f.one, ''), row('2 replicas', f.two, `**${f.speedup}x**`));
    if (f.twoQueueGroup) lines.push(row('2 replicas, queue group', f.twoQueueGroup, `${f.queueGroupSpeedup}x`));
  }
  lines.push('', `Replicas answering a burst of 32 calls: ${levels[0]!.replicasAnswering}.`);
  if (levels.some((f) => f.tool === 'block'))
    lines.push(
      '',
      '"blocked, no CPU": the tool `block` holds its upstream (`Atomics.wait`) without using CPU, so the upstream serves one call ' +
        'at a time while the cores stay free: how calls are spread over replicas, apart from CPU contention. Not a target of the issue.',
    );
  if (levels.some((f) => f.twoQueueGroup))
    lines.push(
      '',
      '"2 replicas" is the default ingress (`ingress.balance: least-in-flight`); "2 replicas, queue group" is a second mesh whose ' +
        'ingress runs with `--balance queue-group` (NATS picks a replica at random), measured in the same rounds.',
    );
  return lines.join('\n');
}

/** The issue's targets with what was measured (the main run's and the soak's). */
export function checksTable(checks: readonly TargetCheck[]): string {
  const lines = ['| target of the issue | measured | threshold | met |', '|---|---:|---|---|'];
  for (const check of checks) {
    const met = check.met === null ? 'not measured' : check.met ? '**yes**' : '**no**';
    lines.push(`| ${check.description} | ${fixed(check.value, check.id === 'added-p50-c1' ? 3 : 2)} | ${check.threshold} | ${met} |`);
  }
  return lines.join('\n');
}

export function machineLine(report: BenchReport): string {
  const m = report.machine;
  const s = report.settings;
  return (
    `${m.cpus} × ${m.cpuModel}, ${m.memoryGB} GB, ${m.os}, Node ${m.node}, ${m.natsServer}; ` +
    `load average ${m.loadAverageAtStart} at start` +
    (m.hashMsPer1000 === undefined ? '' : `; 1 000 rounds of the fan-out hashing in ${m.hashMsPer1000} ms`) +
    (m.wakeupRoundTripUs
      ? `; process wake-up round trip ${m.wakeupRoundTripUs.start} µs at start${m.wakeupRoundTripUs.end === undefined ? '' : `, ${m.wakeupRoundTripUs.end} µs at end`}`
      : '') +
    `. Mesh revision: ${report.revision}. ` +
    `${report.mode} run of ${report.createdAt}: ${s.sessions} client sessions per HTTP target; each workload ` +
    `bounded by ${s.secondsPerWorkload} s or ${s.maxCallsPerWorkload} calls per target after a warm-up of ` +
    `${s.warmupSeconds} s / ${s.warmupCalls} calls, split into ${s.rounds} interleaved rounds.`
  );
}

export function profileTable(report: BenchReport): string {
  const p = report.profile;
  if (!p || p.processes.length === 0) return '_not profiled in this run_';
  const parts: string[] = [];
  for (const proc of p.processes) {
    parts.push(
      `**${proc.process}** (${p.workload}, ${proc.calls} calls): ${proc.cpuUsPerCall} µs of CPU per call (/proc), ` +
        `${proc.sampledUsPerCall} µs sampled per call (${proc.sampledPercent}% of one core; the difference is mostly time preempted in socket writes).`,
    );
    parts.push('');
    parts.push('| self time by origin | % |', '|---|---:|');
    for (const origin of proc.byOrigin.slice(0, 8)) parts.push(`| ${origin.origin} | ${origin.percent.toFixed(1)} |`);
    parts.push('');
    parts.push('| top functions (self time) | location | % |', '|---|---|---:|');
    for (const fn of proc.top.slice(0, 12)) parts.push(`| \`${fn.function}\` | ${fn.location} | ${fn.percent.toFixed(1)} |`);
    parts.push('');
  }
  return parts.join('\n').trimEnd();
}

/** Everything generated, for the console and for docs/performance.md. */
export function renderReport(report: BenchReport): string {
  return [
    `Machine: ${machineLine(report)}`,
    '',
    resultsTable(report),
    '',
    ratiosTable(report),
    '',
    fanoutTable(report),
    '',
    checksTable(report.checks),
  ].join('\n');
}

/** calls/s per round; a round the machine slowed (machine-speed probe below 0.8) is marked with its speed. */
function roundsCell(r: TargetResult): string {
  const speeds = r.roundsMachineSpeed ?? [];
  return (r.roundsCallsPerSec ?? [])
    .map((value, i) => {
      const speed = speeds[i];
      return speed !== undefined && speed < SLOWED_BELOW ? `${value.toFixed(0)} (machine ×${speed.toFixed(2)})` : value.toFixed(0);
    })
    .join(' / ');
}
