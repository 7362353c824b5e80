import type { Leg } from './suites.js';
import { cell, type Verdict } from './verdict.js';

export type TargetId = 'direct' | 'mesh';

export interface Row {
  leg: Leg;
  scenario: string;
  verdicts: Partial<Record<TargetId, Verdict>>;
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

function truncate(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** The table: one block per leg, one line per scenario, a column per target. */
export function printTable(rows: Row[], targets: TargetId[], print: (line: string) => void): void {
  const nameWidth = Math.max(8, ...rows.map((row) => row.scenario.length)) + 2;
  const columnWidth = 16;
  const legs = [...new Set(rows.map((row) => row.leg))];
  for (const leg of legs) {
    const legRows = rows.filter((row) => row.leg === leg);
    const wire = leg.specVersion ?? (leg.id.endsWith('@extensions') ? 'draft wire (extensions)' : 'suite default wire');
    print('');
    print(`@modelcontextprotocol/conformance ${leg.suite.version}, ${wire}: ${legRows.length} scenarios`);
    print(`  ${pad('scenario', nameWidth)}${targets.map((target) => pad(target, columnWidth)).join('')}`);
    print(`  ${'-'.repeat(nameWidth + columnWidth * targets.length)}`);
    for (const row of legRows) {
      const cells = targets.map((target) => pad(row.verdicts[target] ? cell(row.verdicts[target]!) : '-', columnWidth));
      print(`  ${pad(row.scenario, nameWidth)}${cells.join('')}`);
    }
    const tally = targets.map((target) => {
      const verdicts = legRows.map((row) => row.verdicts[target]).filter((v): v is Verdict => v !== undefined);
      const pass = verdicts.filter((v) => v.kind === 'pass').length;
      return pad(`${pass}/${verdicts.filter((v) => v.kind !== 'skip').length} pass`, columnWidth);
    });
    print(`  ${pad('', nameWidth)}${tally.join('')}`);
  }
}

/** Why each failing cell failed, a few problems per cell. */
export function printFailures(rows: Row[], targets: TargetId[], print: (line: string) => void): void {
  const failing = rows.flatMap((row) =>
    targets.flatMap((target) => (row.verdicts[target]?.kind === 'fail' ? [{ row, target, verdict: row.verdicts[target]! }] : [])),
  );
  if (failing.length === 0) return;
  print('');
  print(`Failures (${failing.length}):`);
  for (const { row, target, verdict } of failing) {
    print(`  ${target} ${row.leg.id} ${row.scenario}:`);
    for (const problem of verdict.problems.slice(0, 4)) print(`    - ${truncate(problem, 220)}`);
    if (verdict.problems.length > 4) print(`    - … and ${verdict.problems.length - 4} more`);
  }
}

export function progressLine(
  done: number,
  total: number,
  target: TargetId,
  leg: Leg,
  scenario: string,
  verdict: Verdict,
  ms: number,
): string {
  const counter = `[${String(done).padStart(String(total).length)}/${total}]`;
  return `${counter} ${pad(target, 7)}${pad(leg.id, 28)}${pad(scenario, 48)}${pad(cell(verdict), 14)}${(ms / 1000).toFixed(1)}s`;
}
