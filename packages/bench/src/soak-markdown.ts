import { checksTable, short } from './markdown.js';
import { SOAK_LIMITS, SOAK_ROLES, type SoakHeapSample, type SoakReport } from './soak-report.js';

const COLUMNS = 10;

function machineLine(report: SoakReport): string {
  const m = report.machine;
  const s = report.settings;
  const flags =
    (s.ingressNodeArgs.length > 0 ? ` Ingress node flags: \`${s.ingressNodeArgs.join(' ')}\`.` : '') +
    ((s.ingressArgs ?? []).length > 0 ? ` Ingress arguments: \`${s.ingressArgs.join(' ')}\`.` : '');
  return (
    `${m.cpus} × ${m.cpuModel}, ${m.memoryGB} GB, ${m.os}, Node ${m.node}, ${m.natsServer}; load average ` +
    `${m.loadAverageAtStart} at start. Mesh revision: ${report.revision}. Soak of ${report.createdAt}: ` +
    `\`${s.tool}\` at c=${s.concurrency} over ${s.sessions} sessions for ${s.minutes} min without pause; warm-up ` +
    `${s.warmupSeconds} s; RSS sampled every ${s.sampleMs / 1000} s; end points are medians over ${s.windowSeconds} s.${flags}`
  );
}

function summaryTable(report: SoakReport): string {
  const lines = [
    '| process | peak RSS MB | after warm-up MB | at end MB | end / after warm-up | slope MB/min |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const s of report.summary) {
    const ratio = s.postWarmupMB > 0 ? (s.endMB / s.postWarmupMB).toFixed(2) : '–';
    lines.push(
      `| ${s.role} | ${s.peakMB.toFixed(0)} | ${s.postWarmupMB.toFixed(0)} | ${s.endMB.toFixed(0)} | ${ratio} | ${s.slopeMBPerMin.toFixed(2)} |`,
    );
  }
  return lines.join('\n');
}

function periodsTable(report: SoakReport): string {
  const lines = [
    `| period s | phase | calls/s | p50 ms | p99 ms | errors | peak RSS MB (${SOAK_ROLES.map(short).join(' / ')}) | ingress / bridge CPU µs/call | other load % |`,
    '|---|---|---:|---:|---:|---:|---|---|---:|',
  ];
  for (const p of report.periods) {
    const rss = SOAK_ROLES.map((role) => (p.peakRssMB[role] ?? 0).toFixed(0)).join(' / ');
    const cpu = `${p.cpuUsPerCall.ingress ?? '–'} / ${p.cpuUsPerCall.bridge ?? '–'}`;
    lines.push(
      `| ${p.fromS.toFixed(0)}–${p.toS.toFixed(0)} | ${p.phase} | ${p.callsPerSec} | ${p.p50Ms.toFixed(1)} | ${p.p99Ms.toFixed(1)} | ` +
        `${p.errors} | ${rss} | ${cpu} | ${p.foreignCpuPercent} |`,
    );
  }
  return lines.join('\n');
}

/** RSS per role at COLUMNS evenly spaced times: the shape of the curve at a glance. */
function curveTable(report: SoakReport): string {
  const samples = report.samples;
  if (samples.length < 2) return '';
  const endS = samples.at(-1)!.t;
  const picks = Array.from({ length: COLUMNS + 1 }, (_, i) => {
    const at = (endS * i) / COLUMNS;
    return samples.reduce((best, s) => (Math.abs(s.t - at) < Math.abs(best.t - at) ? s : best));
  });
  const lines = [`| RSS MB at s | ${picks.map((s) => s.t.toFixed(0)).join(' | ')} |`, `|---|${picks.map(() => '---:').join('|')}|`];
  for (const role of SOAK_ROLES) lines.push(`| ${role} | ${picks.map((s) => (s.rssMB[role] ?? 0).toFixed(0)).join(' | ')} |`);
  return lines.join('\n');
}

/** Where the RSS of the ingress and the bridge is: V8 heap spaces, buffers, the rest (native). */
function heapTable(report: SoakReport): string {
  const rows: string[] = [];
  for (const [role, series] of Object.entries(report.heap)) {
    if (series.length === 0) continue;
    const peak = series.reduce((best, s) => (s.rss > best.rss ? s : best));
    const end = series.at(-1)!;
    const row = (label: string, s: SoakHeapSample) =>
      `| ${role} | ${label} (${s.t.toFixed(0)} s) | ${s.rss.toFixed(0)} | ${s.heapTotal.toFixed(0)} | ${s.heapUsed.toFixed(0)} | ` +
      `${s.newSpace.toFixed(0)} | ${s.oldSpace.toFixed(0)} | ${s.largeObjects.toFixed(0)} | ${s.code.toFixed(0)} | ` +
      `${s.external.toFixed(0)} | ${s.arrayBuffers.toFixed(0)} | ${Math.max(0, s.rss - s.heapTotal - s.external).toFixed(0)} |`;
    rows.push(row('peak', peak), row('end', end));
  }
  if (rows.length === 0) return '';
  return [
    'Memory probe inside the processes (`process.memoryUsage()` and `v8.getHeapSpaceStatistics()`, MB):',
    '',
    '| process | sample | RSS | V8 heap committed | heap used | new space | old space | large objects | code | external | of which array buffers | rest (native, stacks, malloc) |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}

/** The generated `soak` section of docs/performance.md, and the console summary. */
export function renderSoak(report: SoakReport): string {
  const t = report.totals;
  const errors = t.errors > 0 ? ` **${t.errors} errors** (first: ${t.firstError ?? '?'}).` : ' No errors.';
  return [
    `Machine: ${machineLine(report)}`,
    '',
    `${t.calls} calls, ${t.callsPerSec} calls/s after warm-up, other load ${t.foreignCpuPercent} %.${errors}`,
    '',
    checksTable(report.checks),
    '',
    summaryTable(report),
    '',
    curveTable(report),
    '',
    periodsTable(report),
    '',
    heapTable(report),
    '',
    `No growth means: for the ingress and the bridge, the least-squares slope of RSS over the steady part is below ` +
      `${SOAK_LIMITS.maxSlopeMBPerMin} MB/min **and** the RSS at the end is at most ${SOAK_LIMITS.maxEndOverPostWarmup} × the RSS after warm-up.`,
  ]
    .filter((part, i, all) => !(part === '' && all[i - 1] === ''))
    .join('\n')
    .trim();
}
