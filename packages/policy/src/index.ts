export {
  PolicyConfigSchema,
  AuthConfigSchema,
  ApiKeyConfigSchema,
  AnonymousConfigSchema,
  RbacConfigSchema,
  RoleSchema,
  RuleSchema,
  RoleNameSchema,
  PrincipalSchema,
  GlobSchema,
  BucketLimitSchema,
  RateLimitsConfigSchema,
  ConcurrencyLimitSchema,
  ConcurrencyConfigSchema,
  BreakerConfigSchema,
  RetryConfigSchema,
  TokenBudgetSchema,
  TokenBudgetsConfigSchema,
  LimitsConfigSchema,
  API_KEY_HASH_PATTERN,
  parsePolicyConfig,
} from './config.js';
export type {
  PolicyConfig,
  PolicyConfigInput,
  AuthConfig,
  ApiKeyConfig,
  RbacConfig,
  Rule,
  BucketLimit,
  RateLimitsConfig,
  ConcurrencyLimit,
  ConcurrencyConfig,
  BreakerConfig,
  RetryConfig,
  TokenBudget,
  TokenBudgetsConfig,
  LimitsConfig,
} from './config.js';
export { JwtConfigSchema, JwtAlgorithms, JwtAlgorithmSchema, PublicJwkSchema, PemKeySchema } from './jwt-config.js';
export type { JwtConfig, JwtAlgorithm, PublicJwk, PemKey } from './jwt-config.js';
export { systemClock } from './clock.js';
export type { Clock } from './clock.js';
export { denial, ruleOf, retryAfterMsOf } from './denial.js';
export { compileGlob, globMatch, matchesAny } from './glob.js';
export type { Glob } from './glob.js';
export { generateApiKey, hashApiKey, ApiKeyStore, API_KEY_PREFIX, MIN_API_KEY_LENGTH } from './api-keys.js';
export {
  PROTECTED_RESOURCE_WELL_KNOWN,
  protectedResourceMetadataUrl,
  buildProtectedResourceMetadata,
  bearerChallenge,
  BearerError,
} from './protected-resource.js';
export type { ProtectedResourceMetadata, ProtectedResourceOptions, ChallengeOptions } from './protected-resource.js';
export { JwtVerifier, JwtVerificationError, JwtFailure } from './jwt-verifier.js';
export type { VerifiedJwt, JwtVerifierOptions } from './jwt-verifier.js';
export { Authenticator, AuthMethod } from './authenticator.js';
export type { Identity, Credentials, AuthenticatorOptions } from './authenticator.js';
export { Authorizer, TargetKind, RoleOrigin } from './authorizer.js';
export type { Target, Subject, Decision, Explanation, RoleTrace, RuleTrace, ListItem } from './authorizer.js';
export { formatExplanation } from './explain.js';
export { takeFromBucket, MemoryRateLimiter, RateLimits } from './rate-limit.js';
export type { BucketState, RateDecision, RateLimiter, MemoryRateLimiterOptions, RateLimitsOptions } from './rate-limit.js';
export { Bulkhead, BulkheadFullError, ServerBulkheads } from './bulkhead.js';
export type { BulkheadStats } from './bulkhead.js';
export { ServerBreakers, BreakerState } from './breaker.js';
export { isServerFault, isTransient, isUpstreamAnswer, meshCodeOfError } from './fault.js';
export type { BreakerListener, ServerBreakersOptions } from './breaker.js';
export { RetryPolicy, SAFE_METHODS } from './retry.js';
export type { RetryCall, RetryPolicyOptions, Sleep } from './retry.js';
export { CallGuard } from './call-guard.js';
export type { CallGuardOptions } from './call-guard.js';
export { createTokenCounter, boundedSegments } from './token-counter.js';
export { BpeCounter, BpeRanks, o200kRanks } from './bpe-ranks.js';
export type { TokenCounter, TokenCounterOptions } from './token-counter.js';
export { TokenBudgets, resultText } from './token-budget.js';
export type { BudgetUsage, TokenBudgetsOptions } from './token-budget.js';
export { jsonTextDepth, checkJsonDepth, valueDepth, checkHeaders } from './hostile-input.js';
export type { HeaderLimits, HeaderInput } from './hostile-input.js';
export { createPolicy } from './policy.js';
export type { Policy, PolicyOptions } from './policy.js';
