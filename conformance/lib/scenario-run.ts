import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { ManagedProcess } from './processes.js';
import type { Leg } from './suites.js';

export type CheckStatus = 'SUCCESS' | 'FAILURE' | 'WARNING' | 'SKIPPED' | 'INFO';

export interface Check {
  id: string;
  status: CheckStatus;
  errorMessage?: string;
}

/** What one `conformance server --scenario X` invocation produced. */
export interface ScenarioOutcome {
  checks: Check[];
  /** Set when the suite produced no checks (timeout, crash). */
  error?: string;
  durationMs: number;
}

export interface RunScenarioOptions {
  leg: Leg;
  scenario: string;
  url: string;
  /** Directory for the suite's `-o` output (checks.json). */
  outDir: string;
  /** The suite's own per-scenario timeout (0.2.x), milliseconds. */
  timeoutMs: number;
}

/** Runs one scenario against one URL with the leg's suite and reads back its checks. */
export async function runScenario(options: RunScenarioOptions): Promise<ScenarioOutcome> {
  const { leg, scenario, url, outDir, timeoutMs } = options;
  const started = Date.now();
  await mkdir(outDir, { recursive: true });
  const args = [leg.suite.cli, 'server', '--url', url, '--scenario', scenario, '-o', outDir];
  if (leg.suite.versioned) args.push('--timeout', String(timeoutMs));
  if (leg.specVersion) args.push('--spec-version', leg.specVersion);
  const proc = new ManagedProcess(`conformance ${leg.id} ${scenario}`, leg.suite.node, args, { keepLines: 60 });
  // The suite bounds a scenario itself (0.2.x); this bounds a suite that hangs anyway.
  const hardLimitMs = timeoutMs * 2 + 10_000;
  const timer = setTimeout(() => proc.kill(), hardLimitMs);
  const exit = await proc.exited;
  clearTimeout(timer);
  const durationMs = Date.now() - started;
  const output = stripAnsi(proc.output());
  await writeFile(join(outDir, 'output.txt'), output);
  const checks = await readChecks(outDir);
  if (checks) return { checks, durationMs };
  const why = exit.signal === 'SIGKILL' ? `killed after ${hardLimitMs} ms` : `the suite exited with code ${exit.code} without results`;
  return { checks: [], error: `${why}: ${firstError(output)}`, durationMs };
}

async function readChecks(outDir: string): Promise<Check[] | undefined> {
  const entries = await readdir(outDir, { withFileTypes: true });
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    try {
      const raw = JSON.parse(await readFile(join(outDir, entry.name, 'checks.json'), 'utf8')) as Check[];
      return raw.map(({ id, status, errorMessage }) => ({ id, status, ...(errorMessage ? { errorMessage } : {}) }));
    } catch {
      // Not this directory.
    }
  }
  return undefined;
}

function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, '');
}

/** The line that says what went wrong (the first one naming an error), else the last lines. */
function firstError(output: string): string {
  const lines = output.split('\n').filter((line) => line.trim() !== '' && !/^\s+at /.test(line));
  const error = lines.find((line) => /error/i.test(line));
  return error?.trim() ?? lines.slice(-3).join(' | ');
}
