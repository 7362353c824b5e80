#!/usr/bin/env node
/**
 * `npm run bench [-- --quick]`: the same MCP workload direct over stdio, behind supergateway and
 * through mcp-mesh, on this machine, in one run. Writes bench/results/latest.json and the
 * generated tables of docs/performance.md. Every process it starts is stopped at the end, on
 * Ctrl-C and on errors.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, relative } from 'node:path';

import { updateDocs, updateSoakDocs } from './docs.js';
import { profileTable, renderReport } from './markdown.js';
import { parseOptions, USAGE } from './options.js';
import { REPO_ROOT } from './paths.js';
import { ProcessSet } from './processes.js';
import type { BenchOptions } from './options.js';
import type { BenchReport } from './results.js';
import { runSoak } from './soak.js';
import { renderSoak } from './soak-markdown.js';
import type { SoakReport } from './soak-report.js';
import { runSuite } from './suite.js';

const out = (line: string) => process.stdout.write(`${line}\n`);

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    out(`\n${signal}: stopping every process the benchmark started…`);
    void ProcessSet.global.stopAll().finally(() => process.exit(130));
  });
}

async function main(): Promise<number> {
  let options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  if (options === 'help') {
    out(USAGE);
    return 0;
  }
  if ('render' in options) {
    await present(JSON.parse(await readFile(options.render, 'utf8')) as BenchReport | SoakReport, options.docs);
    return 0;
  }
  if (options.soak) return soak(options);
  const started = Date.now();
  out(`mcp-mesh bench (${options.quick ? 'quick' : 'full'}): targets ${options.targets.join(', ')}`);
  const report = await runSuite(options, {
    progress: out,
    ...(process.stdout.isTTY ? { tick: (line: string) => process.stdout.write(`\r${line}\x1b[K`) } : {}),
  });

  await writeResults(options.out, report);
  out('');
  await present(report, options.docs);
  out(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  const failed = [...report.results, ...(report.fanout ?? []).flatMap((f) => [f.one, f.two])].filter((result) => result.errors > 0);
  if (failed.length > 0) {
    out(`${failed.length} measurement(s) had failed calls: ${failed.map((r) => `${r.target}/${r.workload}`).join(', ')}`);
    return 1;
  }
  return 0;
}

/** `--soak`: only the memory soak; its own results file and docs section. */
async function soak(options: BenchOptions): Promise<number> {
  const started = Date.now();
  const report = await runSoak(options, out);
  await writeResults(options.out, report);
  out('');
  await present(report, options.docs);
  out(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (report.totals.errors > 0) {
    out(`the soak had ${report.totals.errors} failed calls (first: ${report.totals.firstError})`);
    return 1;
  }
  return 0;
}

async function writeResults(path: string, report: BenchReport | SoakReport): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(report, null, report.mode === 'soak' ? 1 : 2)}\n`);
  out(`results: ${relative(REPO_ROOT, path)}`);
}

/** Prints a report of either kind and, when asked, rewrites its sections of the docs. */
async function present(report: BenchReport | SoakReport, docs: string | undefined): Promise<void> {
  if (report.mode === 'soak') out(renderSoak(report));
  else out(report.profile ? `${renderReport(report)}\n\n${profileTable(report)}` : renderReport(report));
  if (!docs) return;
  const sections = await docsOrWarn(report.mode === 'soak' ? updateSoakDocs(docs, report) : updateDocs(docs, report));
  out(
    sections.length > 0
      ? `docs: ${relative(REPO_ROOT, docs)} (sections ${sections.join(', ')})`
      : `docs: no section markers found in ${docs}`,
  );
}

/** A docs update that fails is reported and leaves the run's outcome alone; answers the sections updated. */
function docsOrWarn(update: Promise<string[]>): Promise<string[]> {
  return update.catch((error: unknown) => {
    out(`docs not updated: ${(error as Error).message}`);
    return [];
  });
}

main()
  .then(async (code) => {
    await ProcessSet.global.stopAll();
    process.exit(code);
  })
  .catch(async (error: unknown) => {
    process.stderr.write(`bench failed: ${(error as Error)?.stack ?? String(error)}\n`);
    await ProcessSet.global.stopAll();
    process.exit(1);
  });
