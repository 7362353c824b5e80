import { z } from 'zod';
import { ServerNameKeySchema, deepFreeze, formatIssues, invalidConfig } from '@mcp-mesh/protocol';
import { JwtConfigSchema } from './jwt-config.js';

/**
 * Gateway policy configuration: who may call (auth), what they may call (rbac), how often
 * (rateLimits, tokenBudgets), how much at once (concurrency), when to stop calling a failing
 * server (breaker), what to retry (retry) and the hostile-input guards (limits). Every section
 * but `limits` is off until configured. Validated once, every problem listed, then frozen.
 */

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
const noControl = (value: string) => !CONTROL_CHARS.test(value);

/**
 * Cross-field checks run even when other fields have problems, so that every problem is listed
 * at once; they therefore read their input defensively.
 */
export const ALWAYS = { when: () => true };
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const field = (value: unknown, key: string): unknown =>
  value !== null && typeof value === 'object' && Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;

/** Role names appear in rule ids (`rbac.roles.<role>.deny[0]`), so they carry no dots. */
export const RoleNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_:-]{0,63}$/, 'role names are 1-64 of A-Z a-z 0-9 _ : - (no dots)');
export const PrincipalSchema = z.string().min(1).max(256).refine(noControl, 'principal names carry no control characters');

/** A glob of an RBAC rule; see glob.ts for the syntax. */
export const GlobSchema = z.string().min(1).max(256).refine(noControl, 'globs carry no control characters');
const GlobListSchema = z.array(GlobSchema).min(1, 'give at least one glob');

export const RuleSchema = z
  .object({
    servers: GlobListSchema.optional(),
    tools: GlobListSchema.optional(),
    prompts: GlobListSchema.optional(),
    resources: GlobListSchema.optional(),
    description: z.string().optional(),
  })
  .strict()
  .refine((rule) => rule.servers || rule.tools || rule.prompts || rule.resources, {
    message: 'a rule names at least one of servers, tools, prompts, resources',
  });
export type Rule = z.infer<typeof RuleSchema>;

export const RoleSchema = z
  .object({
    description: z.string().optional(),
    allow: z.array(RuleSchema).default([]),
    deny: z.array(RuleSchema).default([]),
  })
  .strict();

export const RbacConfigSchema = z
  .object({
    roles: z.record(RoleNameSchema, RoleSchema).default({}),
    /** Roles per principal, added to those its credential carries. */
    principals: z.record(PrincipalSchema, z.array(RoleNameSchema)).default({}),
    /** Roles every authenticated principal has. */
    defaultRoles: z.array(RoleNameSchema).default([]),
  })
  .strict();
export type RbacConfig = z.infer<typeof RbacConfigSchema>;

export const API_KEY_HASH_PATTERN = /^sha256:[A-Za-z0-9_-]{43}$/;

export const ApiKeyConfigSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'key ids are 1-64 of A-Z a-z 0-9 _ . -'),
    principal: PrincipalSchema,
    hash: z
      .string()
      .regex(API_KEY_HASH_PATTERN, 'hash is "sha256:" and 43 base64url characters, as `hashApiKey(key)` prints it (never the key itself)'),
    roles: z.array(RoleNameSchema).default([]),
    description: z.string().optional(),
  })
  .strict();
export type ApiKeyConfig = z.infer<typeof ApiKeyConfigSchema>;

export const AnonymousConfigSchema = z
  .object({
    enabled: z.boolean().default(false),
    principal: PrincipalSchema.default('anonymous'),
    roles: z.array(RoleNameSchema).default([]),
  })
  .strict();

export const AuthConfigSchema = z
  .object({
    /** Canonical URL of the protected MCP endpoint (RFC 8707/9728), e.g. https://mesh.example.com/mcp. */
    resource: z.url({ protocol: /^https?$/, error: 'resource must be an http(s) URL' }).optional(),
    /** Issuers clients get tokens from; defaults to the JWT issuer. */
    authorizationServers: z.array(z.url({ protocol: /^https?$/ })).default([]),
    scopesSupported: z.array(z.string().min(1).refine(noControl)).default([]),
    /** The header an API key may come in (besides `Authorization: Bearer`). */
    apiKeyHeader: z
      .string()
      .regex(/^[A-Za-z0-9-]{1,64}$/, 'a header name')
      .transform((name) => name.toLowerCase())
      .default('x-api-key'),
    apiKeys: z.array(ApiKeyConfigSchema).default([]),
    jwt: JwtConfigSchema.optional(),
    anonymous: AnonymousConfigSchema.default({ enabled: false, principal: 'anonymous', roles: [] }),
    /** Longest credential looked at; longer ones are refused before any parsing. */
    maxCredentialLength: z.number().int().min(64).max(65_536).default(8192),
  })
  .strict()
  .superRefine((auth, ctx) => {
    const keys = list(auth.apiKeys);
    if (keys.length === 0 && !auth.jwt && field(auth.anonymous, 'enabled') !== true) {
      ctx.addIssue({ code: 'custom', message: 'auth needs at least one of apiKeys, jwt, anonymous.enabled (or leave auth out)' });
    }
    if (auth.jwt && !auth.resource) {
      ctx.addIssue({ code: 'custom', path: ['resource'], message: 'resource (the public URL of the MCP endpoint) is required with jwt' });
    }
    const ids = new Set<unknown>();
    const hashes = new Set<unknown>();
    keys.forEach((key, i) => {
      const id = field(key, 'id');
      const hash = field(key, 'hash');
      if (id !== undefined && ids.has(id))
        ctx.addIssue({ code: 'custom', path: ['apiKeys', i, 'id'], message: `duplicate key id '${String(id)}'` });
      if (hash !== undefined && hashes.has(hash))
        ctx.addIssue({ code: 'custom', path: ['apiKeys', i, 'hash'], message: 'the same key hash appears twice' });
      ids.add(id);
      hashes.add(hash);
    });
  }, ALWAYS);
export type AuthConfig = z.infer<typeof AuthConfigSchema>;

export const BucketLimitSchema = z
  .object({
    ratePerSec: z.number().positive().max(1_000_000),
    /** Tokens a quiet bucket holds; defaults to one second's worth (at least 1). */
    burst: z.number().int().min(1).max(1_000_000).optional(),
  })
  .strict()
  .transform((limit) => ({ ratePerSec: limit.ratePerSec, burst: limit.burst ?? Math.max(1, Math.ceil(limit.ratePerSec)) }));
export type BucketLimit = z.infer<typeof BucketLimitSchema>;

export const RateLimitsConfigSchema = z
  .object({
    perPrincipal: BucketLimitSchema.optional(),
    perServer: z.record(ServerNameKeySchema, BucketLimitSchema).default({}),
    global: BucketLimitSchema.optional(),
  })
  .strict();
export type RateLimitsConfig = z.infer<typeof RateLimitsConfigSchema>;

export const ConcurrencyLimitSchema = z
  .object({
    maxConcurrent: z.number().int().min(1).max(100_000),
    /** Calls that wait for a slot; defaults to maxConcurrent. 0 rejects at once when all slots are busy. */
    maxQueue: z.number().int().min(0).max(1_000_000).optional(),
  })
  .strict()
  .transform((limit) => ({ maxConcurrent: limit.maxConcurrent, maxQueue: limit.maxQueue ?? limit.maxConcurrent }));
export type ConcurrencyLimit = z.infer<typeof ConcurrencyLimitSchema>;

export const ConcurrencyConfigSchema = z
  .object({
    default: ConcurrencyLimitSchema.optional(),
    perServer: z.record(ServerNameKeySchema, ConcurrencyLimitSchema).default({}),
  })
  .strict();
export type ConcurrencyConfig = z.infer<typeof ConcurrencyConfigSchema>;

const BreakerFields = {
  /** Open after this many failures in a row; 0 turns the consecutive breaker off. */
  consecutiveFailures: z.number().int().min(0).max(10_000),
  /** Open when more than this share of calls in the window fail (0 < x < 1). */
  errorRateThreshold: z.number().gt(0).lt(1),
  errorRateWindowMs: z.number().int().min(1000).max(3_600_000),
  /** Calls per second the window must see before the error rate counts. */
  errorRateMinimumRps: z.number().positive().max(100_000),
  /** How long the circuit stays open before one probe call is let through. */
  halfOpenAfterMs: z.number().int().min(1).max(3_600_000),
};
const BreakerOverrideSchema = z.object(BreakerFields).partial().strict();

export const BreakerConfigSchema = z
  .object({
    consecutiveFailures: BreakerFields.consecutiveFailures.default(5),
    errorRateThreshold: BreakerFields.errorRateThreshold.optional(),
    errorRateWindowMs: BreakerFields.errorRateWindowMs.default(30_000),
    errorRateMinimumRps: BreakerFields.errorRateMinimumRps.default(1),
    halfOpenAfterMs: BreakerFields.halfOpenAfterMs.default(10_000),
    perServer: z.record(ServerNameKeySchema, BreakerOverrideSchema).default({}),
  })
  .strict()
  .superRefine((breaker, ctx) => {
    const base = { consecutiveFailures: breaker.consecutiveFailures, errorRateThreshold: breaker.errorRateThreshold };
    const overrides = breaker.perServer !== null && typeof breaker.perServer === 'object' ? Object.entries(breaker.perServer) : [];
    const settings = [
      { path: [] as string[], ...base },
      ...overrides.map(([server, o]) => ({ path: ['perServer', server], ...base, ...o })),
    ];
    for (const s of settings) {
      if (s.consecutiveFailures === 0 && s.errorRateThreshold === undefined) {
        ctx.addIssue({ code: 'custom', path: s.path, message: 'a breaker needs consecutiveFailures > 0 or an errorRateThreshold' });
      }
    }
  }, ALWAYS);
export type BreakerConfig = z.infer<typeof BreakerConfigSchema>;

export const RetryConfigSchema = z
  .object({
    /** Attempts in all, the first included; 1 means never retry. */
    maxAttempts: z.number().int().min(1).max(10).default(3),
    initialDelayMs: z.number().int().min(0).max(60_000).default(100),
    maxDelayMs: z.number().int().min(0).max(300_000).default(2000),
    /** Tools that are safe to call twice, per server (globs): only these tools/call are retried. */
    idempotentTools: z.record(ServerNameKeySchema, GlobListSchema).default({}),
  })
  .strict();
export type RetryConfig = z.infer<typeof RetryConfigSchema>;

export const TokenBudgetSchema = z
  .object({
    tokens: z.number().int().min(1),
    windowMs: z
      .number()
      .int()
      .min(1000)
      .max(31 * 24 * 3_600_000),
    /** `deny` refuses calls once the window's budget is spent; `warn` only reports it. */
    mode: z.enum(['warn', 'deny']).default('deny'),
  })
  .strict();
export type TokenBudget = z.infer<typeof TokenBudgetSchema>;

export const TokenBudgetsConfigSchema = z
  .object({
    /** The budget each principal has. */
    perPrincipal: TokenBudgetSchema,
    /** Budgets of named principals, instead of perPrincipal. */
    principals: z.record(PrincipalSchema, TokenBudgetSchema).default({}),
  })
  .strict();
export type TokenBudgetsConfig = z.infer<typeof TokenBudgetsConfigSchema>;

/** Hostile-input guards: always on. */
export const LimitsConfigSchema = z
  .object({
    maxJsonDepth: z.number().int().min(1).max(10_000).default(64),
    maxHeaderCount: z.number().int().min(1).max(10_000).default(100),
    maxHeaderBytes: z.number().int().min(256).max(1_048_576).default(32_768),
    maxHeaderValueBytes: z.number().int().min(64).max(1_048_576).default(16_384),
  })
  .strict();
export type LimitsConfig = z.infer<typeof LimitsConfigSchema>;

export const PolicyConfigSchema = z
  .object({
    auth: AuthConfigSchema.optional(),
    rbac: RbacConfigSchema.optional(),
    rateLimits: RateLimitsConfigSchema.optional(),
    concurrency: ConcurrencyConfigSchema.optional(),
    breaker: BreakerConfigSchema.optional(),
    retry: RetryConfigSchema.optional(),
    tokenBudgets: TokenBudgetsConfigSchema.optional(),
    limits: LimitsConfigSchema.default(LimitsConfigSchema.parse({})),
  })
  .strict()
  .superRefine((config, ctx) => {
    // Every role a credential or principal names must exist, so a typo cannot silently deny.
    const roles = field(config.rbac, 'roles');
    if (roles === undefined) return;
    const known = new Set(roles !== null && typeof roles === 'object' ? Object.keys(roles) : []);
    const check = (names: unknown, path: (string | number)[]) => {
      list(names).forEach((role, i) => {
        if (typeof role === 'string' && !known.has(role))
          ctx.addIssue({ code: 'custom', path: [...path, i], message: `role '${role}' is not defined in rbac.roles` });
      });
    };
    list(field(config.auth, 'apiKeys')).forEach((key, i) => check(field(key, 'roles'), ['auth', 'apiKeys', i, 'roles']));
    check(field(field(config.auth, 'anonymous'), 'roles'), ['auth', 'anonymous', 'roles']);
    const principals = field(config.rbac, 'principals');
    if (principals !== null && typeof principals === 'object') {
      for (const [principal, names] of Object.entries(principals)) check(names, ['rbac', 'principals', principal]);
    }
    check(field(config.rbac, 'defaultRoles'), ['rbac', 'defaultRoles']);
  }, ALWAYS);
export type PolicyConfigInput = z.input<typeof PolicyConfigSchema>;
export type PolicyConfig = z.output<typeof PolicyConfigSchema>;

/** Validates a policy config value; throws MESH_INVALID_CONFIG listing every problem. */
export function parsePolicyConfig(value: unknown, source = 'policy'): PolicyConfig {
  const result = PolicyConfigSchema.safeParse(value);
  if (!result.success) {
    throw invalidConfig(`${source} is invalid`, formatIssues(result.error, source));
  }
  return deepFreeze(result.data);
}
