import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MeshError } from '@mcp-mesh/protocol';
import {
  MemoryRateLimiter,
  RateLimits,
  parsePolicyConfig,
  takeFromBucket,
  type BucketLimit,
  type BucketState,
  type RateDecision,
  type RateLimiter,
} from '@mcp-mesh/policy';

function fakeClock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

function limits(rateLimits: unknown) {
  const config = parsePolicyConfig({ rateLimits }).rateLimits;
  if (!config) throw new Error('no rateLimits');
  return config;
}

async function refusal(promise: Promise<unknown>): Promise<MeshError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(MeshError);
    return error as MeshError;
  }
  throw new Error('expected a refusal');
}

describe('token bucket', () => {
  it('allows a burst, then refuses with the wait until the next token, then refills', () => {
    const clock = fakeClock();
    const limiter = new MemoryRateLimiter({ limit: { ratePerSec: 2, burst: 3 }, now: clock.now });
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')].every((d) => d.ok)).toBe(true);
    expect(limiter.take('a')).toEqual({ ok: false, retryAfterMs: 500 });
    clock.advance(200);
    expect(limiter.take('a')).toEqual({ ok: false, retryAfterMs: 300 });
    clock.advance(300);
    expect(limiter.take('a')).toEqual({ ok: true, remaining: 0 });
    expect(limiter.take('b').ok).toBe(true); // keys are independent
    clock.advance(60_000);
    expect(limiter.take('a')).toEqual({ ok: true, remaining: 2 }); // never above burst
  });

  it('forgets the least recently used bucket past maxKeys', () => {
    const clock = fakeClock();
    const limiter = new MemoryRateLimiter({ limit: { ratePerSec: 1, burst: 1 }, now: clock.now, maxKeys: 2 });
    limiter.take('a');
    limiter.take('b');
    limiter.take('c');
    expect(limiter.size).toBe(2);
    expect(limiter.take('a').ok).toBe(true); // forgotten, so whole again
    expect(limiter.take('c').ok).toBe(false);
  });

  it('never grants more than burst + rate × elapsed, and a refused take succeeds after retryAfterMs: property', () => {
    const limit: BucketLimit = { ratePerSec: 5, burst: 4 };
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 700 }), { minLength: 1, maxLength: 200 }), (steps) => {
        let state: BucketState | undefined;
        let now = 0;
        let granted = 0;
        for (const step of steps) {
          now += step;
          const result = takeFromBucket(state, limit, now);
          state = result.state;
          if (result.decision.ok) {
            granted++;
          } else {
            const retry = takeFromBucket(state, limit, now + result.decision.retryAfterMs);
            expect(retry.decision.ok).toBe(true);
          }
          expect(granted).toBeLessThanOrEqual(limit.burst + (now * limit.ratePerSec) / 1000);
        }
      }),
    );
  });

  it('refuses a cost that could never be taken', () => {
    expect(() => takeFromBucket(undefined, { ratePerSec: 1, burst: 2 }, 0, 3)).toThrow(RangeError);
  });
});

describe('rate limits per principal, per server and global', () => {
  it('names the limit that refused, with retryAfterMs (429)', async () => {
    const clock = fakeClock();
    const rateLimits = new RateLimits({ config: limits({ perPrincipal: { ratePerSec: 1, burst: 2 } }), now: clock.now });
    await rateLimits.take({ principal: 'alice', server: 'github' });
    await rateLimits.take({ principal: 'alice', server: 'github' });
    const error = await refusal(rateLimits.take({ principal: 'alice', server: 'github' }));
    expect(error.code).toBe('MESH_RATE_LIMITED');
    expect(error.httpStatus).toBe(429);
    expect(error.details).toEqual({ rule: 'rateLimits.perPrincipal', retryAfterMs: 1000 });
    await rateLimits.take({ principal: 'bob', server: 'github' }); // another principal has its own bucket
    clock.advance(1000);
    await rateLimits.take({ principal: 'alice', server: 'github' });
  });

  it('limits a server for everyone, and everything globally', async () => {
    const clock = fakeClock();
    const rateLimits = new RateLimits({
      config: limits({ perServer: { github: { ratePerSec: 1, burst: 1 } }, global: { ratePerSec: 10, burst: 3 } }),
      now: clock.now,
    });
    await rateLimits.take({ principal: 'alice', server: 'github' });
    expect((await refusal(rateLimits.take({ principal: 'bob', server: 'github' }))).details).toMatchObject({
      rule: 'rateLimits.perServer.github',
    });
    await rateLimits.take({ principal: 'bob', server: 'files' });
    await rateLimits.take({ principal: 'carol', server: 'files' });
    expect((await refusal(rateLimits.take({ principal: 'dave', server: 'files' })))?.details).toEqual({
      rule: 'rateLimits.global',
      retryAfterMs: 100,
    });
  });

  it('gives back the tokens earlier limits took when a later limit refuses', async () => {
    const clock = fakeClock();
    const made = new Map<string, MemoryRateLimiter>();
    const rateLimits = new RateLimits({
      config: limits({ perPrincipal: { ratePerSec: 1, burst: 2 }, global: { ratePerSec: 1, burst: 1 } }),
      limiterFactory: (rule, limit) => {
        const limiter = new MemoryRateLimiter({ limit, now: clock.now });
        made.set(rule, limiter);
        return limiter;
      },
    });
    await rateLimits.take({ principal: 'alice' });
    await refusal(rateLimits.take({ principal: 'alice' }));
    // alice's bucket still holds the token the refused call took and gave back.
    expect(made.get('rateLimits.perPrincipal')?.take('alice')).toEqual({ ok: true, remaining: 0 });
  });

  it('takes an asynchronous limiter (the shape of a NATS-KV one)', async () => {
    const calls: string[] = [];
    const remote: RateLimiter = {
      async take(key): Promise<RateDecision> {
        calls.push(`take ${key}`);
        return key === 'github' ? { ok: false, retryAfterMs: 250 } : { ok: true, remaining: 1 };
      },
      async refund(key) {
        calls.push(`refund ${key}`);
      },
    };
    const rateLimits = new RateLimits({
      config: limits({ perPrincipal: { ratePerSec: 1 }, perServer: { github: { ratePerSec: 1 } } }),
      limiterFactory: () => remote,
    });
    const error = await refusal(rateLimits.take({ principal: 'alice', server: 'github' }));
    expect(error.details).toEqual({ rule: 'rateLimits.perServer.github', retryAfterMs: 250 });
    expect(calls).toEqual(['take alice', 'take github', 'refund alice']);
  });
});
