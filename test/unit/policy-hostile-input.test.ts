import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MeshError } from '@mcp-mesh/protocol';
import { checkHeaders, checkJsonDepth, jsonTextDepth, valueDepth } from '@mcp-mesh/policy';

function refusal(fn: () => void): MeshError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(MeshError);
    return error as MeshError;
  }
  throw new Error('expected a refusal');
}

describe('JSON depth', () => {
  it('counts nesting of arrays and objects, ignoring brackets inside strings', () => {
    expect(jsonTextDepth('1')).toBe(0);
    expect(jsonTextDepth('[]')).toBe(1);
    expect(jsonTextDepth('{"a":[1,{"b":2}]}')).toBe(3);
    expect(jsonTextDepth('{"a":"[[[[{{{{"}')).toBe(1);
    expect(jsonTextDepth('["\\"[[[", "\\\\", [1]]')).toBe(2);
  });

  it('refuses deeper than the limit with MESH_JSON_TOO_DEEP (400)', () => {
    const error = refusal(() => checkJsonDepth(`${'['.repeat(65)}${']'.repeat(65)}`, 64));
    expect(error.code).toBe('MESH_JSON_TOO_DEEP');
    expect(error.httpStatus).toBe(400);
    expect(error.details).toEqual({ rule: 'limits.maxJsonDepth', maxDepth: 64 });
    expect(() => checkJsonDepth(`${'['.repeat(64)}${']'.repeat(64)}`, 64)).not.toThrow();
  });

  it('reads 100k-deep text and values without overflowing the stack', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(jsonTextDepth(deep)).toBe(100_000);
    expect(jsonTextDepth(new TextEncoder().encode(deep))).toBe(100_000);
    expect(jsonTextDepth(deep, 64)).toBe(65);
    let value: unknown = 0;
    for (let i = 0; i < 100_000; i++) value = [value];
    expect(valueDepth(value, Number.POSITIVE_INFINITY)).toBe(100_000);
    expect(valueDepth(value, 10)).toBe(11);
  });

  it('ends on cyclic values', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(valueDepth(cyclic, 50)).toBe(51);
  });

  it('agrees on text, UTF-8 bytes and the parsed value for any JSON: property', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 12 }), (value) => {
        const text = JSON.stringify(value);
        const depth = valueDepth(value, Number.POSITIVE_INFINITY);
        expect(jsonTextDepth(text)).toBe(depth);
        expect(jsonTextDepth(new TextEncoder().encode(text))).toBe(depth);
      }),
    );
  });
});

describe('header limits', () => {
  const limits = { maxHeaderCount: 4, maxHeaderBytes: 200, maxHeaderValueBytes: 100 };

  it('accepts headers within the limits, raw or as a record', () => {
    expect(() => checkHeaders(['Host', 'x', 'Accept', 'application/json'], limits)).not.toThrow();
    expect(() => checkHeaders({ host: 'x', cookie: ['a=1', 'b=2'], skipped: undefined }, limits)).not.toThrow();
  });

  it('refuses too many headers, an oversized value, or too many bytes, with 431 and the limit', () => {
    const many = refusal(() => checkHeaders(Array.from({ length: 5 }, (_, i) => [`h${i}`, 'v']).flat(), limits));
    expect(many.code).toBe('MESH_HEADERS_TOO_LARGE');
    expect(many.httpStatus).toBe(431);
    expect(many.details).toEqual({ rule: 'limits.maxHeaderCount', limit: 4 });
    expect(refusal(() => checkHeaders({ cookie: ['a', 'x'.repeat(101)] }, limits)).details).toMatchObject({
      rule: 'limits.maxHeaderValueBytes',
    });
    expect(refusal(() => checkHeaders(['a', 'x'.repeat(90), 'b', 'x'.repeat(90), 'c', 'x'.repeat(90)], limits)).details).toMatchObject({
      rule: 'limits.maxHeaderBytes',
    });
  });

  it('never echoes a header value', () => {
    const secret = `Bearer ${'s'.repeat(200)}`;
    const error = refusal(() => checkHeaders(['Authorization', secret], limits));
    expect(JSON.stringify(error.toWire())).not.toContain('sss');
  });
});
