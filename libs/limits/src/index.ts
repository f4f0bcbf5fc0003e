export { limitOverridesSchema, LIMIT_NAMES } from './limits.schema';
export type { LimitOverrides, LimitName } from './limits.schema';
export {
  DEFAULT_PLATFORM_LIMITS,
  resolveEffectiveLimits,
  limitDefaultsEnvSchema,
  limitDefaultsFromEnv,
} from './effective-limits';
export type { Limits, EffectiveLimits } from './effective-limits';
export { Limiter, LIMITER_REDIS_OPTIONS, DEFAULT_LIMITS_KEY_PREFIX, DEFAULT_LEASE_TTL_MS } from './limiter';
export type { LimiterOptions, LimiterFailureMode } from './limiter';
export type { LimitDecision, LimitAllowed, LimitRejection, LimitPrincipal, LimitScope, LimitState } from './limit-decision';
export { rateLimitHeaders, limitErrorData } from './rate-limit-headers';
