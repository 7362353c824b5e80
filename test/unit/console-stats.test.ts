import { describe, expect, it } from 'vitest';
import { StatsWindow } from '@mcp-mesh/console';

/** A clock the test moves by hand. */
function clock(start = 1_700_000_000_000) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('console stats window', () => {
  it('counts calls per second over the part of the window it has seen', () => {
    const time = clock();
    const stats = new StatsWindow({ windowMs: 60_000, now: time.now });
    // 5 calls a second for 10 seconds
    for (let second = 0; second < 10; second++) {
      for (let i = 0; i < 5; i++) stats.record('alpha', 'ok', 10);
      time.advance(1_000);
    }
    const alpha = stats.snapshot().alpha!;
    expect(alpha.count).toBe(50);
    expect(alpha.ratePerSecond).toBeCloseTo(5, 5);
  });

  it('divides by the whole window once the window is full, and forgets what slid out', () => {
    const time = clock();
    const stats = new StatsWindow({ windowMs: 10_000, now: time.now });
    for (let second = 0; second < 30; second++) {
      stats.record('alpha', 'ok', 1);
      stats.record('alpha', 'ok', 1);
      time.advance(1_000);
    }
    const alpha = stats.snapshot().alpha!;
    // the last 10 one-second buckets, the current one just begun: 9 full seconds of 2 calls, 2 a second
    expect(alpha.count).toBe(18);
    expect(alpha.ratePerSecond).toBeCloseTo(2, 5);
    // half-way through the current second: 9.5 s seen, the oldest bucket still in
    time.advance(500);
    expect(stats.snapshot().alpha!.ratePerSecond).toBeCloseTo(18 / 9.5, 5);
    time.advance(10_000);
    expect(stats.snapshot()).toEqual({});
  });

  it('computes p95 by nearest rank within 4%, bounded by the latencies seen', () => {
    const time = clock();
    const stats = new StatsWindow({ now: time.now });
    const latencies = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100 ms
    for (const latency of latencies.sort(() => 0.5 - Math.random())) stats.record('alpha', 'ok', latency);
    const p95 = stats.snapshot().alpha!.p95Ms!;
    expect(p95).toBeGreaterThanOrEqual(95);
    expect(p95).toBeLessThanOrEqual(95 * 1.04);

    // one latency, repeated: exactly it
    stats.record('beta', 'ok', 12.5);
    stats.record('beta', 'ok', 12.5);
    expect(stats.snapshot().beta!.p95Ms).toBe(12.5);
  });

  it('finds a slow tail: p95 follows the slowest 5%', () => {
    const time = clock();
    const stats = new StatsWindow({ now: time.now });
    for (let i = 0; i < 90; i++) stats.record('alpha', 'ok', 2);
    for (let i = 0; i < 10; i++) stats.record('alpha', 'ok', 2_000);
    const p95 = stats.snapshot().alpha!.p95Ms!;
    expect(p95).toBeGreaterThan(2_000 / 1.04);
    expect(p95).toBeLessThanOrEqual(2_000);
  });

  it('counts every outcome but ok as failing, as the Prometheus alert does', () => {
    const time = clock();
    const stats = new StatsWindow({ now: time.now });
    for (let i = 0; i < 16; i++) stats.record('alpha', 'ok', 5);
    stats.record('alpha', 'error', 5);
    stats.record('alpha', 'tool_error', 5);
    stats.record('alpha', 'denied', 5);
    stats.record('alpha', 'error', 5);
    const alpha = stats.snapshot().alpha!;
    expect(alpha).toMatchObject({ count: 20, errors: 2, toolErrors: 1, denied: 1 });
    expect(alpha.errorRate).toBeCloseTo(0.2, 10);
  });

  it('keeps servers apart and drops a server whose requests all slid out', () => {
    const time = clock();
    const stats = new StatsWindow({ windowMs: 5_000, now: time.now });
    stats.record('alpha', 'ok', 1);
    time.advance(3_000);
    stats.record('beta', 'error', 1);
    expect(Object.keys(stats.snapshot()).sort()).toEqual(['alpha', 'beta']);
    time.advance(3_000);
    const snapshot = stats.snapshot();
    expect(Object.keys(snapshot)).toEqual(['beta']);
    expect(snapshot.beta).toMatchObject({ count: 1, errorRate: 1 });
  });

  it('reuses a bucket after the ring wraps without carrying old latencies', () => {
    const time = clock();
    const stats = new StatsWindow({ windowMs: 3_000, now: time.now });
    stats.record('alpha', 'ok', 5_000);
    time.advance(3_000); // the same slot of the ring, three buckets later
    stats.record('alpha', 'ok', 3);
    expect(stats.snapshot().alpha).toMatchObject({ count: 1, p95Ms: 3 });
  });

  it('does not report a huge rate right after start: at least one bucket of time', () => {
    const time = clock();
    const stats = new StatsWindow({ now: time.now });
    time.advance(10);
    stats.record('alpha', 'ok', 1);
    expect(stats.snapshot().alpha!.ratePerSecond).toBe(1);
  });
});
