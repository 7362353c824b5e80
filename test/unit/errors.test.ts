import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, MeshError, meshCodeOf } from '@mcp-mesh/protocol';
import { REPO_ROOT } from '../support/paths.js';

describe('error codes', () => {
  it('are all documented in docs/errors.md with the same JSON-RPC code', () => {
    const doc = readFileSync(`${REPO_ROOT}docs/errors.md`, 'utf8');
    for (const [code, info] of Object.entries(ErrorCodes)) {
      const row = doc.split('\n').find((line) => line.includes(`\`${code}\``));
      expect(row, `docs/errors.md has no row for ${code}`).toBeDefined();
      expect(row).toContain(String(info.jsonRpc));
    }
    const documented = [...doc.matchAll(/`(MESH_[A-Z_]+)`/g)].map((m) => m[1]);
    for (const code of documented) expect(Object.keys(ErrorCodes)).toContain(code);
  });

  it('cross the wire without stack traces, with the stable code in data', () => {
    const error = new MeshError('MESH_UPSTREAM_TIMEOUT', 'too slow', { cause: new Error('inner'), details: { server: 's' } });
    const wire = error.toWire();
    expect(wire).toEqual({ code: -32011, message: 'too slow', data: { meshCode: 'MESH_UPSTREAM_TIMEOUT', server: 's' } });
    expect(JSON.stringify(wire)).not.toContain('at ');
    expect(meshCodeOf(wire)).toBe('MESH_UPSTREAM_TIMEOUT');
  });
});
