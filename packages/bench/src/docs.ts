import { readFile, writeFile } from 'node:fs/promises';

import { profileTable, renderReport } from './markdown.js';
import type { BenchReport } from './results.js';
import { renderSoak } from './soak-markdown.js';
import type { SoakReport } from './soak-report.js';

/** The generated sections of a full or quick run: the results tables, and the profile when there is one. */
export function updateDocs(file: string, report: BenchReport): Promise<string[]> {
  return updateDocSections(file, { results: renderReport(report), ...(report.profile ? { profile: profileTable(report) } : {}) });
}

/** The generated section of a soak. */
export function updateSoakDocs(file: string, report: SoakReport): Promise<string[]> {
  return updateDocSections(file, { soak: renderSoak(report) });
}

/**
 * Rewrites generated parts of docs/performance.md, the text between
 * `<!-- bench:<name>:begin -->` and `<!-- bench:<name>:end -->`; the prose around them is kept.
 * Returns the names of the sections it found and replaced.
 */
async function updateDocSections(file: string, sections: Record<string, string>): Promise<string[]> {
  let text = await readFile(file, 'utf8');
  const replaced: string[] = [];
  for (const [name, rendered] of Object.entries(sections)) {
    const begin = `<!-- bench:${name}:begin -->`;
    const end = `<!-- bench:${name}:end -->`;
    const from = text.indexOf(begin);
    const to = text.indexOf(end);
    if (from === -1 || to < from) continue;
    text = `${text.slice(0, from + begin.length)}\n${rendered}\n${text.slice(to)}`;
    replaced.push(name);
  }
  await writeFile(file, text);
  return replaced;
}
