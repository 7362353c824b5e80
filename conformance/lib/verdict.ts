import type { CheckStatus, ScenarioOutcome } from './scenario-run.js';

export type VerdictKind = 'pass' | 'fail' | 'skip';

export interface Verdict {
  kind: VerdictKind;
  counts: Record<CheckStatus, number>;
  /** Why it failed: failing checks, a crash, or checks that passed directly but not here. */
  problems: string[];
}

function countByStatus(outcome: ScenarioOutcome): Record<CheckStatus, number> {
  const counts: Record<CheckStatus, number> = { SUCCESS: 0, FAILURE: 0, WARNING: 0, SKIPPED: 0, INFO: 0 };
  for (const check of outcome.checks) counts[check.status] = (counts[check.status] ?? 0) + 1;
  return counts;
}

function successesById(outcome: ScenarioOutcome): Map<string, number> {
  const map = new Map<string, number>();
  for (const check of outcome.checks) if (check.status === 'SUCCESS') map.set(check.id, (map.get(check.id) ?? 0) + 1);
  return map;
}

/**
 * Judges one scenario run. A FAILURE check, or no checks at all, fails it. With a `reference`
 * (the same scenario run directly against the fixture), every check that succeeded there must
 * succeed here too: a check the suite downgrades to WARNING or SKIPPED behind the mesh (e.g.
 * "server did not declare the extension") is a fidelity failure, not a pass. A run whose checks
 * were all skipped by the suite itself is `skip`.
 */
export function judge(outcome: ScenarioOutcome, reference?: ScenarioOutcome): Verdict {
  const counts = countByStatus(outcome);
  const problems: string[] = [];
  if (outcome.error) problems.push(outcome.error);
  for (const check of outcome.checks) {
    if (check.status === 'FAILURE') problems.push(`${check.id}: ${check.errorMessage ?? 'failed'}`);
  }
  if (reference && !reference.error) {
    const here = successesById(outcome);
    for (const [id, count] of successesById(reference)) {
      if ((here.get(id) ?? 0) >= count) continue;
      const seen = outcome.checks.filter((check) => check.id === id && check.status !== 'SUCCESS');
      if (seen.some((check) => check.status === 'FAILURE')) continue; // already listed
      const how =
        seen.length > 0
          ? seen.map((check) => `${check.status}${check.errorMessage ? ` (${check.errorMessage})` : ''}`).join(', ')
          : 'not reported';
      problems.push(`${id}: succeeded directly, ${how} here`);
    }
  }
  const kind: VerdictKind = problems.length > 0 ? 'fail' : counts.SUCCESS > 0 ? 'pass' : 'skip';
  return { kind, counts, problems };
}

/** A short cell for tables and progress lines. */
export function cell(verdict: Verdict): string {
  if (verdict.kind === 'pass') return verdict.counts.WARNING > 0 ? `pass (${verdict.counts.WARNING} warn)` : 'pass';
  if (verdict.kind === 'skip') return 'skip';
  const total = verdict.counts.SUCCESS + verdict.counts.FAILURE;
  if (total === 0 && verdict.counts.WARNING + verdict.counts.SKIPPED === 0) return 'FAIL (no result)';
  const failing = Math.max(verdict.counts.FAILURE, verdict.problems.length);
  return `FAIL ${failing}/${Math.max(total, failing)}`;
}
