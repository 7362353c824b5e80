import { Authenticator } from './authenticator.js';
import { Authorizer } from './authorizer.js';
import { ServerBreakers } from './breaker.js';
import { ServerBulkheads } from './bulkhead.js';
import { CallGuard } from './call-guard.js';
import type { Clock } from './clock.js';
import type { LimitsConfig, PolicyConfig } from './config.js';
import { RateLimits, type RateLimiter } from './rate-limit.js';
import { RetryPolicy } from './retry.js';
import { TokenBudgets } from './token-budget.js';
import { createTokenCounter } from './token-counter.js';
import type { BucketLimit } from './config.js';

export interface PolicyOptions {
  now?: Clock;
  /** The fetch used for a remote JWKS. */
  fetch?: typeof fetch;
  /** Overrides the protected-resource metadata URL derived from `auth.resource`. */
  resourceMetadataUrl?: string;
  /** The separator of namespaced names on the aggregated endpoint (for `explain`). */
  separator?: string;
  /** Makes a rate limiter per rule (a NATS-KV one, later); defaults to in-memory buckets. */
  limiterFactory?: (rule: string, limit: BucketLimit) => RateLimiter;
}

/** Every configured policy, built once from a validated config; absent sections are undefined. */
export interface Policy {
  readonly config: PolicyConfig;
  /** Undefined without `auth`: the ingress then serves loopback clients only (DESIGN.md). */
  readonly authenticator: Authenticator | undefined;
  /** Always present; allows everything (`rbac.off`) without `rbac`. */
  readonly authorizer: Authorizer;
  readonly rateLimits: RateLimits | undefined;
  readonly tokenBudgets: TokenBudgets | undefined;
  readonly breakers: ServerBreakers | undefined;
  readonly bulkheads: ServerBulkheads | undefined;
  readonly retry: RetryPolicy | undefined;
  /** retry( breaker( bulkhead( call ) ) ) with whichever parts are configured. */
  readonly guard: CallGuard;
  /** Hostile-input limits, always on. */
  readonly limits: LimitsConfig;
}

/** Builds every policy of `config` (from parsePolicyConfig); loads the tokenizer only with tokenBudgets. */
export async function createPolicy(config: PolicyConfig, options: PolicyOptions = {}): Promise<Policy> {
  const now = options.now ? { now: options.now } : {};
  const authenticator = config.auth
    ? new Authenticator({
        auth: config.auth,
        ...now,
        ...(options.fetch ? { fetch: options.fetch } : {}),
        ...(options.resourceMetadataUrl ? { resourceMetadataUrl: options.resourceMetadataUrl } : {}),
      })
    : undefined;
  await authenticator?.ready();
  const breakers = config.breaker ? new ServerBreakers({ config: config.breaker }) : undefined;
  const bulkheads = config.concurrency ? new ServerBulkheads({ config: config.concurrency }) : undefined;
  const retry = config.retry ? new RetryPolicy({ config: config.retry, ...now }) : undefined;
  return {
    config,
    authenticator,
    authorizer: new Authorizer({ rbac: config.rbac, ...(options.separator ? { separator: options.separator } : {}) }),
    rateLimits: config.rateLimits
      ? new RateLimits({ config: config.rateLimits, ...now, ...(options.limiterFactory ? { limiterFactory: options.limiterFactory } : {}) })
      : undefined,
    tokenBudgets: config.tokenBudgets
      ? new TokenBudgets({ config: config.tokenBudgets, counter: await createTokenCounter(), ...now })
      : undefined,
    breakers,
    bulkheads,
    retry,
    guard: new CallGuard({ retry, breakers, bulkheads }),
    limits: config.limits,
  };
}
