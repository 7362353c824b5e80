import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/paths.js';

/** Which workspace packages each package may import (the dependency direction of docs/architecture.md). */
const ALLOWED: Record<string, string[]> = {
  protocol: [],
  telemetry: [],
  runtime: ['protocol'],
  policy: ['protocol', 'runtime'],
  audit: ['protocol', 'runtime'],
  bridge: ['protocol', 'runtime', 'telemetry', 'policy'],
  ingress: ['protocol', 'runtime', 'telemetry', 'policy'],
  console: ['protocol', 'runtime', 'audit', 'policy', 'ingress'],
  bench: ['protocol', 'testing', 'audit'],
  cli: ['protocol', 'runtime', 'telemetry', 'audit', 'policy', 'bridge', 'ingress', 'console'],
  testing: ['protocol'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

describe('package dependency direction', () => {
  for (const [pkg, allowed] of Object.entries(ALLOWED)) {
    it(`${pkg} imports only ${allowed.join(', ') || 'no other mesh package'}`, () => {
      for (const file of sourceFiles(join(REPO_ROOT, 'packages', pkg, 'src'))) {
        const text = readFileSync(file, 'utf8');
        for (const match of text.matchAll(/from '@mcp-mesh\/([a-z-]+)'/g)) {
          expect(allowed, `${file} imports @mcp-mesh/${match[1]}`).toContain(match[1]);
        }
      }
    });
  }

  it('protocol does no I/O', () => {
    for (const file of sourceFiles(join(REPO_ROOT, 'packages', 'protocol', 'src'))) {
      expect(readFileSync(file, 'utf8')).not.toMatch(/from 'node:(fs|net|http|child_process|dgram)/);
    }
  });
});
