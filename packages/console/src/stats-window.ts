import type { WindowStats } from './api-types.js';
import { BIN_COUNT, binOf, quantile } from './latency-histogram.js';

export type Outcome = 'ok' | 'tool_error' | 'error' | 'denied';

export interface StatsWindowOptions {
  /** Length of the sliding window, milliseconds (default 60 s). */
  windowMs?: number;
  /** Granularity: the window moves by this much, milliseconds (default 1 s). */
  bucketMs?: number;
  /** The clock, epoch milliseconds (tests inject one). */
  now?: () => number;
}

interface Bucket {
  /** Which bucket of time this slot holds now: floor(time / bucketMs). */
  epoch: number;
  count: number;
  errors: number;
  toolErrors: number;
  denied: number;
  min: number;
  max: number;
  bins: Uint32Array | undefined;
}

function emptyBucket(epoch: number): Bucket {
  return { epoch, count: 0, errors: 0, toolErrors: 0, denied: 0, min: Infinity, max: -Infinity, bins: undefined };
}

/**
 * Calls per second, p95 latency and error rate per key (a server) over a sliding window, from
 * finished requests. A ring of time buckets per key: recording is O(1), a snapshot
 * O(buckets × latency bins), memory bounded by the window whatever the request rate.
 */
export class StatsWindow {
  readonly windowMs: number;
  private readonly bucketMs: number;
  private readonly slots: number;
  private readonly now: () => number;
  private readonly startedAt: number;
  private readonly rings = new Map<string, Bucket[]>();

  constructor(options: StatsWindowOptions = {}) {
    this.bucketMs = options.bucketMs ?? 1_000;
    this.slots = Math.max(1, Math.round((options.windowMs ?? 60_000) / this.bucketMs));
    this.windowMs = this.slots * this.bucketMs;
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
  }

  record(key: string, outcome: Outcome, latencyMs: number): void {
    const epoch = Math.floor(this.now() / this.bucketMs);
    let ring = this.rings.get(key);
    if (!ring) {
      ring = Array.from({ length: this.slots }, () => emptyBucket(-1));
      this.rings.set(key, ring);
    }
    const slot = epoch % this.slots;
    let bucket = ring[slot]!;
    if (bucket.epoch !== epoch) {
      const bins = bucket.bins;
      bins?.fill(0);
      bucket = { ...emptyBucket(epoch), bins };
      ring[slot] = bucket;
    }
    bucket.count++;
    if (outcome === 'error') bucket.errors++;
    else if (outcome === 'tool_error') bucket.toolErrors++;
    else if (outcome === 'denied') bucket.denied++;
    const latency = Math.max(0, latencyMs);
    bucket.min = Math.min(bucket.min, latency);
    bucket.max = Math.max(bucket.max, latency);
    bucket.bins ??= new Uint32Array(BIN_COUNT);
    bucket.bins[binOf(latency)]!++;
  }

  /** The numbers of every key with requests in the window; keys without any are forgotten. */
  snapshot(): Record<string, WindowStats> {
    const now = this.now();
    const current = Math.floor(now / this.bucketMs);
    const oldest = current - this.slots + 1;
    // The rate divides by the part of the window the console has seen (at least one bucket).
    const seenMs = Math.max(this.bucketMs, now - Math.max(oldest * this.bucketMs, this.startedAt));
    const result: Record<string, WindowStats> = {};
    for (const [key, ring] of this.rings) {
      const live = ring.filter((bucket) => bucket.epoch >= oldest && bucket.epoch <= current && bucket.count > 0);
      if (live.length === 0) {
        this.rings.delete(key);
        continue;
      }
      let count = 0;
      let errors = 0;
      let toolErrors = 0;
      let denied = 0;
      let min = Infinity;
      let max = -Infinity;
      for (const bucket of live) {
        count += bucket.count;
        errors += bucket.errors;
        toolErrors += bucket.toolErrors;
        denied += bucket.denied;
        min = Math.min(min, bucket.min);
        max = Math.max(max, bucket.max);
      }
      const bins = live.map((bucket) => bucket.bins!);
      result[key] = {
        count,
        ratePerSecond: count / (seenMs / 1_000),
        p95Ms: quantile(bins, count, 0.95, { min, max }),
        errorRate: (errors + toolErrors + denied) / count,
        errors,
        toolErrors,
        denied,
      };
    }
    return result;
  }
}
