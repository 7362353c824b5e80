import { readFile, writeFile } from 'node:fs/promises';

import { profileTable, renderReport } from './markdown.js';
import type { BenchReport } from './results.js';

const SECTIONS = {
  results: (report: BenchReport) => renderReport(report),
  profile: (report: BenchReport) => profileTable(report),
} as const;

/**
 * Rewrites the generated parts of docs/performance.md, the text between
 * `<!-- bench:<name>:begin -->` and `<!-- bench:<name>:end -->`; the prose around them is kept.
 * Returns the names of the sections it found and replaced.
 */
export async function updateDocs(file: string, report: BenchReport): Promise<string[]> {
  let text = await readFile(file, 'utf8');
  const replaced: string[] = [];
  for (const [name, render] of Object.entries(SECTIONS)) {
    const begin = `<!-- bench:${name}:begin -->`;
    const end = `<!-- bench:${name}:end -->`;
    const from = text.indexOf(begin);
    const to = text.indexOf(end);
    if (from === -1 || to < from) continue;
    if (name === 'profile' && !report.profile) continue;
    text = `${text.slice(0, from + begin.length)}\n${render(report)}\n${text.slice(to)}`;
    replaced.push(name);
  }
  await writeFile(file, text);
  return replaced;
}
