import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { node22, packageBin, packageVersion } from './paths.js';

const run = promisify(execFile);

/** One installed version of @modelcontextprotocol/conformance (npm aliases keep both side by side). */
export interface Suite {
  /** npm alias the suite is installed under. */
  pkg: 'conformance-legacy' | 'conformance-next';
  version: string;
  /** Node binary that runs it (0.2.x needs Node >= 22). */
  node: string;
  cli: string;
  /** Whether `server` takes `--spec-version` and `--timeout` (0.2.x). */
  versioned: boolean;
}

/** A set of scenarios run by one suite at one spec version: a column group of the report. */
export interface Leg {
  id: string;
  suite: Suite;
  /** `--spec-version`; undefined lets the suite pick (its default, or the draft wire for extensions). */
  specVersion: string | undefined;
  scenarios: string[];
}

export function loadSuites(): { legacy: Suite; next: Suite } {
  return {
    legacy: {
      pkg: 'conformance-legacy',
      version: packageVersion('conformance-legacy'),
      node: process.execPath,
      cli: packageBin('conformance-legacy', 'conformance'),
      versioned: false,
    },
    next: {
      pkg: 'conformance-next',
      version: packageVersion('conformance-next'),
      node: node22(),
      cli: packageBin('conformance-next', 'conformance'),
      versioned: true,
    },
  };
}

interface Listed {
  name: string;
  /** Spec versions (or `extension`) the suite tags the scenario with; empty for 0.1.x. */
  tags: string[];
}

/** The server scenarios `conformance list --server [--spec-version V]` names. */
async function listServerScenarios(suite: Suite, specVersion?: string): Promise<Listed[]> {
  const args = [suite.cli, 'list', '--server', ...(specVersion ? ['--spec-version', specVersion] : [])];
  const { stdout } = await run(suite.node, args, { maxBuffer: 4 * 1024 * 1024 });
  const listed: Listed[] = [];
  let inServer = false;
  for (const line of stdout.split('\n')) {
    if (/^Server scenarios/.test(line)) inServer = true;
    else if (/^\S/.test(line)) inServer = false;
    const match = inServer ? /^\s+-\s+(\S+)(?:\s+\[([^\]]*)\])?\s*$/.exec(line) : null;
    if (match) listed.push({ name: match[1]!, tags: match[2] ? match[2].split(',').map((tag) => tag.trim()) : [] });
  }
  if (listed.length === 0) throw new Error(`conformance ${suite.version}: \`list --server\` named no server scenarios:\n${stdout}`);
  return listed;
}

/**
 * Every server scenario of both suites, in four legs: 0.1.x at its own wire (2025-06-18 /
 * 2025-11-25), 0.2.x at 2025-11-25 and at 2026-07-28, and 0.2.x's extension scenarios (which
 * belong to no spec version; the suite runs them on the 2026-07-28 wire).
 */
export async function loadLegs(): Promise<Leg[]> {
  const { legacy, next } = loadSuites();
  const [legacyList, next2025, next2026, nextAll] = await Promise.all([
    listServerScenarios(legacy),
    listServerScenarios(next, '2025-11-25'),
    listServerScenarios(next, '2026-07-28'),
    listServerScenarios(next),
  ]);
  const names = (listed: Listed[]) => listed.map((entry) => entry.name);
  return [
    { id: `${legacy.version}`, suite: legacy, specVersion: undefined, scenarios: names(legacyList) },
    { id: `${next.version}@2025-11-25`, suite: next, specVersion: '2025-11-25', scenarios: names(next2025) },
    { id: `${next.version}@2026-07-28`, suite: next, specVersion: '2026-07-28', scenarios: names(next2026) },
    {
      id: `${next.version}@extensions`,
      suite: next,
      specVersion: undefined,
      scenarios: names(nextAll.filter((entry) => entry.tags.includes('extension'))),
    },
  ];
}
