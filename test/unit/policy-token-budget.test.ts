import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MeshError } from '@mcp-mesh/protocol';
import { TokenBudgets, boundedSegments, createTokenCounter, parsePolicyConfig, resultText, type TokenCounter } from '@mcp-mesh/policy';

let counter: TokenCounter;

beforeAll(async () => {
  counter = await createTokenCounter();
});

const text = (t: string) => ({ content: [{ type: 'text', text: t }] });

describe('token counting (o200k_base, offline)', () => {
  it('counts real tokens', () => {
    expect(counter.count('')).toBe(0);
    expect(counter.count('hello world')).toBe(2);
    expect(counter.count('The quick brown fox jumps over the lazy dog.')).toBe(10);
  });

  it('treats special-token text as plain text instead of throwing', () => {
    expect(counter.count('before <|endoftext|> after')).toBeGreaterThan(3);
  });

  it('counts ordinary prose exactly as the unbounded encoder does', async () => {
    const unbounded = await createTokenCounter({ maxRunLength: Number.MAX_SAFE_INTEGER });
    const prose = 'Tool results are mostly prose, JSON {"a": [1, 2, 3]} and code: const x = f(y);\n'.repeat(50);
    expect(counter.count(prose)).toBe(unbounded.count(prose));
  });

  it('counts long unbroken runs in bounded pieces (no quadratic blow-up), never splitting a surrogate pair', () => {
    const cjk = '漢字'.repeat(20_000);
    expect(counter.count(cjk)).toBeGreaterThan(1000);
    const segments = boundedSegments('😀'.repeat(100), 7);
    expect(segments.join('')).toBe('😀'.repeat(100));
    for (const segment of segments) expect(segment).toBe(Array.from(segment).join(''));
    expect(segments.every((s) => !/^[\uDC00-\uDFFF]/.test(s))).toBe(true);
  });

  it('never throws and loses nothing when segmenting any string: property', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), fc.integer({ min: 1, max: 40 }), (input, maxRun) => {
        const segments = boundedSegments(input, maxRun);
        expect(segments.join('')).toBe(input);
        expect(Number.isInteger(counter.count(input))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('reads the text of tool results, prompt messages and resource contents, not images', () => {
    expect(
      resultText({
        content: [
          { type: 'text', text: 'a' },
          { type: 'image', data: 'iVBORw0KGgo=', mimeType: 'image/png' },
          { type: 'resource', resource: { uri: 'x:/1', text: 'b' } },
        ],
        structuredContent: { ignored: 'because text exists' },
      }),
    ).toEqual(['a', 'b']);
    expect(resultText({ content: [], structuredContent: { n: 1 } })).toEqual(['{"n":1}']);
    expect(resultText({ messages: [{ role: 'user', content: { type: 'text', text: 'p' } }] })).toEqual(['p']);
    expect(
      resultText({
        contents: [
          { uri: 'x:/2', text: 'r' },
          { uri: 'x:/3', blob: 'AAAA' },
        ],
      }),
    ).toEqual(['r']);
    expect(resultText(null)).toEqual([]);
  });
});

describe('token budgets', () => {
  function budgets(tokenBudgets: unknown, start = 0) {
    let t = start;
    const config = parsePolicyConfig({ tokenBudgets }).tokenBudgets;
    if (!config) throw new Error('no tokenBudgets');
    return { budgets: new TokenBudgets({ config, counter, now: () => t }), advance: (ms: number) => void (t += ms) };
  }

  it('denies a principal whose window is spent until the next window (deny mode)', () => {
    const { budgets: b, advance } = budgets({ perPrincipal: { tokens: 5, windowMs: 60_000, mode: 'deny' } });
    b.check('alice');
    expect(b.record('alice', text('hello world'))).toMatchObject({
      tokens: 2,
      used: 2,
      remaining: 3,
      exceeded: false,
      windowEndsAt: 60_000,
    });
    b.check('alice');
    expect(b.record('alice', text('The quick brown fox jumps over the lazy dog.'))).toMatchObject({ tokens: 10, used: 12, exceeded: true });
    advance(15_000);
    try {
      b.check('alice');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(MeshError);
      const mesh = error as MeshError;
      expect(mesh.code).toBe('MESH_TOKEN_BUDGET_EXCEEDED');
      expect(mesh.details).toEqual({ rule: 'tokenBudgets.perPrincipal', used: 12, limit: 5, retryAfterMs: 45_000 });
    }
    b.check('bob'); // budgets are per principal
    advance(45_000);
    b.check('alice');
    expect(b.usage('alice')).toMatchObject({ used: 0, exceeded: false, windowEndsAt: 120_000 });
  });

  it('only reports in warn mode, and a principal may have its own budget', () => {
    const { budgets: b } = budgets({
      perPrincipal: { tokens: 1, windowMs: 60_000, mode: 'warn' },
      principals: { 'ci-bot': { tokens: 100, windowMs: 60_000, mode: 'deny' } },
    });
    expect(b.record('alice', text('hello world'))).toMatchObject({ exceeded: true, mode: 'warn', rule: 'tokenBudgets.perPrincipal' });
    expect(() => b.check('alice')).not.toThrow();
    expect(b.record('ci-bot', text('hello world'))).toMatchObject({ exceeded: false, limit: 100, rule: 'tokenBudgets.principals.ci-bot' });
  });
});
