import { systemClock, type Clock } from './clock.js';
import type { BucketLimit, RateLimitsConfig } from './config.js';
import { denial } from './denial.js';

/** The state of one token bucket: what a shared store (NATS KV later) would keep per key. */
export interface BucketState {
  readonly tokens: number;
  /** When `tokens` was computed (epoch ms). */
  readonly updatedAt: number;
}

export type RateDecision = { readonly ok: true; readonly remaining: number } | { readonly ok: false; readonly retryAfterMs: number };

/**
 * The token-bucket step, pure: refill `state` for the time passed, then take `cost` tokens if
 * there are enough. A KV-backed limiter runs the same step inside a compare-and-set loop.
 */
export function takeFromBucket(
  state: BucketState | undefined,
  limit: BucketLimit,
  now: number,
  cost = 1,
): { state: BucketState; decision: RateDecision } {
  if (cost > limit.burst) throw new RangeError(`cost ${cost} exceeds the burst ${limit.burst}: it could never be taken`);
  const elapsed = state ? Math.max(0, now - state.updatedAt) : 0;
  const tokens = state ? Math.min(limit.burst, state.tokens + (elapsed * limit.ratePerSec) / 1000) : limit.burst;
  if (tokens >= cost)
    return { state: { tokens: tokens - cost, updatedAt: now }, decision: { ok: true, remaining: Math.floor(tokens - cost) } };
  const retryAfterMs = Math.max(1, Math.ceil(((cost - tokens) * 1000) / limit.ratePerSec));
  return { state: { tokens, updatedAt: now }, decision: { ok: false, retryAfterMs } };
}

/**
 * Where buckets live. `MemoryRateLimiter` keeps them in this process; a NATS-KV limiter (for the
 * per-server limit shared by bridge replicas) implements the same interface asynchronously.
 */
export interface RateLimiter {
  take(key: string, cost?: number): RateDecision | Promise<RateDecision>;
  /** Gives tokens back (a later limit refused the call they were taken for). */
  refund(key: string, cost?: number): void | Promise<void>;
}

export interface MemoryRateLimiterOptions {
  limit: BucketLimit;
  now?: Clock;
  /** Buckets kept at most; the least recently used is forgotten (it refills as new). */
  maxKeys?: number;
}

/** Token buckets in memory, one per key, with burst. */
export class MemoryRateLimiter implements RateLimiter {
  readonly limit: BucketLimit;
  readonly #now: Clock;
  readonly #maxKeys: number;
  readonly #buckets = new Map<string, BucketState>();

  constructor(options: MemoryRateLimiterOptions) {
    this.limit = options.limit;
    this.#now = options.now ?? systemClock;
    this.#maxKeys = options.maxKeys ?? 100_000;
  }

  get size(): number {
    return this.#buckets.size;
  }

  take(key: string, cost = 1): RateDecision {
    const { state, decision } = takeFromBucket(this.#buckets.get(key), this.limit, this.#now(), cost);
    this.#store(key, state);
    return decision;
  }

  refund(key: string, cost = 1): void {
    const state = this.#buckets.get(key);
    if (state) this.#store(key, { tokens: Math.min(this.limit.burst, state.tokens + cost), updatedAt: state.updatedAt });
  }

  #store(key: string, state: BucketState): void {
    // Re-insert so that Map order is least recently used first.
    this.#buckets.delete(key);
    this.#buckets.set(key, state);
    if (this.#buckets.size > this.#maxKeys) {
      const oldest = this.#buckets.keys().next();
      if (!oldest.done) this.#buckets.delete(oldest.value);
    }
  }
}

export interface RateLimitsOptions {
  config: RateLimitsConfig;
  now?: Clock;
  /** Makes the limiter of one rule; defaults to MemoryRateLimiter. */
  limiterFactory?: (rule: string, limit: BucketLimit) => RateLimiter;
}

interface Stage {
  readonly rule: string;
  readonly key: string;
  readonly limiter: RateLimiter;
}

/**
 * The configured limits together: per principal, per server, global, checked in that order.
 * A call passes only if every limit has a token; a limit that refuses gives back the tokens the
 * earlier ones took, so a refused call costs nothing.
 */
export class RateLimits {
  readonly #perPrincipal: RateLimiter | undefined;
  readonly #perServer = new Map<string, RateLimiter>();
  readonly #global: RateLimiter | undefined;

  constructor(options: RateLimitsOptions) {
    const make =
      options.limiterFactory ??
      ((_rule: string, limit: BucketLimit) => new MemoryRateLimiter({ limit, ...(options.now ? { now: options.now } : {}) }));
    const { perPrincipal, perServer, global } = options.config;
    this.#perPrincipal = perPrincipal ? make('rateLimits.perPrincipal', perPrincipal) : undefined;
    for (const [server, limit] of Object.entries(perServer)) this.#perServer.set(server, make(`rateLimits.perServer.${server}`, limit));
    this.#global = global ? make('rateLimits.global', global) : undefined;
  }

  /** Takes one token from each limit that applies, or throws MESH_RATE_LIMITED naming the limit. */
  async take(call: { principal: string; server?: string }): Promise<void> {
    const stages: Stage[] = [];
    if (this.#perPrincipal) stages.push({ rule: 'rateLimits.perPrincipal', key: call.principal, limiter: this.#perPrincipal });
    const server = call.server === undefined ? undefined : this.#perServer.get(call.server);
    if (server && call.server !== undefined)
      stages.push({ rule: `rateLimits.perServer.${call.server}`, key: call.server, limiter: server });
    if (this.#global) stages.push({ rule: 'rateLimits.global', key: '*', limiter: this.#global });
    const taken: Stage[] = [];
    for (const stage of stages) {
      const decision = await stage.limiter.take(stage.key);
      if (decision.ok) {
        taken.push(stage);
        continue;
      }
      for (const done of taken) await done.limiter.refund(done.key);
      throw denial('MESH_RATE_LIMITED', `rate limit ${stage.rule} reached; retry in ${decision.retryAfterMs} ms`, stage.rule, {
        retryAfterMs: decision.retryAfterMs,
      });
    }
  }
}
