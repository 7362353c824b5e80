/**
 * Runs every server scenario of the official MCP conformance suite (@modelcontextprotocol/conformance
 * 0.1.x and 0.2.x, every spec version and the extensions) against the conformance fixture server,
 * (a) directly over Streamable HTTP and (b) through the mesh (nats-server + `mcp-mesh ingress` +
 * `mcp-mesh bridge` over stdio), then prints a table direct vs mesh and, last, `N passed, N failed`.
 * Exit code 1 when anything failed, 2 when the harness itself could not run.
 *
 *   npm run conformance -- [--target direct|mesh|both] [--leg TEXT]… [--scenario NAME]…
 *                          [--concurrency N] [--timeout MS] [--call-timeout MS]
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { RESULTS_DIR } from './lib/paths.js';
import { killAll, stopAll } from './lib/processes.js';
import { printFailures, printTable, progressLine, type Row, type TargetId } from './lib/report.js';
import { runScenario, type ScenarioOutcome } from './lib/scenario-run.js';
import { loadLegs, type Leg } from './lib/suites.js';
import { startDirect, startMesh, type Target } from './lib/targets.js';
import { judge } from './lib/verdict.js';

const USAGE = `usage: npm run conformance -- [options]
  --target direct|mesh|both   what to test (default both)
  --leg TEXT                  only legs whose id contains TEXT, e.g. 2026-07-28, extensions, 0.1.13 (repeatable)
  --scenario NAME             only this scenario (repeatable)
  --concurrency N             scenarios run at once per target (default ${defaultConcurrency()})
  --timeout MS                per-scenario timeout of the suite (default 30000)
  --call-timeout MS           deadline of one call through the mesh (default 15000)`;

function defaultConcurrency(): number {
  return Math.max(2, Math.min(4, availableParallelism()));
}

function positiveInt(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new Error(`${flag} must be a positive integer, not ${value}`);
  return parsed;
}

function parseOptions(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      target: { type: 'string', default: 'both' },
      leg: { type: 'string', multiple: true },
      scenario: { type: 'string', multiple: true },
      concurrency: { type: 'string' },
      timeout: { type: 'string' },
      'call-timeout': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const target = values.target ?? 'both';
  if (target !== 'direct' && target !== 'mesh' && target !== 'both')
    throw new Error(`--target must be direct, mesh or both, not ${target}`);
  return {
    targets: (target === 'both' ? ['direct', 'mesh'] : [target]) as TargetId[],
    legs: values.leg ?? [],
    scenarios: values.scenario ?? [],
    concurrency: positiveInt(values.concurrency, defaultConcurrency(), '--concurrency'),
    timeoutMs: positiveInt(values.timeout, 30_000, '--timeout'),
    callTimeoutMs: positiveInt(values['call-timeout'], 15_000, '--call-timeout'),
  };
}

type Options = ReturnType<typeof parseOptions>;

interface Job {
  leg: Leg;
  scenario: string;
}

/** Runs `work` over `items` with at most `limit` at a time, in order of start. */
async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const slug = (text: string) => text.replace(/[^A-Za-z0-9._-]+/g, '_');

/** Set on Ctrl-C: runs still finishing are not reported. */
let stopping = false;

/** Targets that are up, so that Ctrl-C can stop them cleanly. */
const openTargets = new Set<Target>();

async function main(): Promise<number> {
  const options: Options = parseOptions(process.argv.slice(2));
  const legs = (await loadLegs())
    .filter((leg) => options.legs.length === 0 || options.legs.some((text) => leg.id.includes(text)))
    .map((leg) => ({ ...leg, scenarios: leg.scenarios.filter((s) => options.scenarios.length === 0 || options.scenarios.includes(s)) }))
    .filter((leg) => leg.scenarios.length > 0);
  const jobs: Job[] = legs.flatMap((leg) => leg.scenarios.map((scenario) => ({ leg, scenario })));
  if (jobs.length === 0) throw new Error('no scenario matches the --leg/--scenario filters');

  console.log('Server scenarios to run:');
  for (const leg of legs) console.log(`  ${leg.id} (${leg.scenarios.length}): ${leg.scenarios.join(', ')}`);
  const total = jobs.length * options.targets.length;
  console.log(`${jobs.length} scenario runs × ${options.targets.join(' + ')} = ${total} runs, ${options.concurrency} at a time per target`);

  await rm(RESULTS_DIR, { recursive: true, force: true });
  const rows = new Map<Job, Row>(jobs.map((job) => [job, { leg: job.leg, scenario: job.scenario, verdicts: {} }]));
  const outcomes = new Map<string, ScenarioOutcome>();
  let done = 0;

  // Direct first: its results are the reference each mesh run is compared with.
  for (const targetId of options.targets) {
    console.log('');
    console.log(targetId === 'direct' ? 'Starting the conformance server over HTTP…' : 'Starting the mesh (nats-server, ingress, bridge)…');
    const target: Target = targetId === 'direct' ? await startDirect() : await startMesh({ callTimeoutMs: options.callTimeoutMs });
    openTargets.add(target);
    console.log(`${targetId}: ${target.url}`);
    try {
      await pool(jobs, options.concurrency, async (job) => {
        const outcome = await runScenario({
          leg: job.leg,
          scenario: job.scenario,
          url: target.url,
          outDir: join(RESULTS_DIR, targetId, slug(job.leg.id), slug(job.scenario)),
          timeoutMs: options.timeoutMs,
        });
        if (stopping) return;
        outcomes.set(`${targetId} ${job.leg.id} ${job.scenario}`, outcome);
        const reference = targetId === 'mesh' ? outcomes.get(`direct ${job.leg.id} ${job.scenario}`) : undefined;
        const verdict = judge(outcome, reference);
        rows.get(job)!.verdicts[targetId] = verdict;
        console.log(progressLine(++done, total, targetId, job.leg, job.scenario, verdict, outcome.durationMs));
      });
    } finally {
      openTargets.delete(target);
      await target.close();
    }
  }

  const all = [...rows.values()];
  printTable(all, options.targets, console.log);
  printFailures(all, options.targets, console.log);

  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(
    join(RESULTS_DIR, 'summary.json'),
    JSON.stringify(
      all.map((row) => ({ suite: row.leg.suite.version, leg: row.leg.id, scenario: row.scenario, verdicts: row.verdicts })),
      null,
      2,
    ),
  );
  const verdicts = all.flatMap((row) => Object.values(row.verdicts));
  const passed = verdicts.filter((v) => v.kind === 'pass').length;
  const failed = verdicts.filter((v) => v.kind === 'fail').length;
  const skipped = verdicts.filter((v) => v.kind === 'skip').length;
  console.log('');
  console.log(`Raw checks and summary.json: ${RESULTS_DIR}`);
  if (skipped > 0) console.log(`${skipped} scenario runs were skipped by the suite itself (no check applies) and are not counted.`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    console.error(`\n${signal}: stopping everything the run started…`);
    void Promise.allSettled([...openTargets].map((target) => target.close()))
      .then(() => stopAll())
      .finally(() => process.exit(130));
  });
}
process.once('exit', killAll);

main().then(
  (code) => {
    process.exitCode = code;
  },
  async (error: unknown) => {
    console.error(`conformance: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    await stopAll();
    process.exitCode = 2;
  },
);
