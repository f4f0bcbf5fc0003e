export {
  generateApiKey,
  formatApiKey,
  parseApiKey,
  looksLikeApiKey,
  hashSecret,
  verifySecret,
  API_KEY_PREFIX,
  PUBLIC_ID_LENGTH,
  SECRET_LENGTH,
  CHECKSUM_LENGTH,
} from './api-key-format';
export type { GeneratedApiKey, ParsedApiKey } from './api-key-format';
export { bearerTokenOf } from './bearer-credentials';
export { systemClock } from './principal';
export type { Principal, ResolveResult, ResolveFailure, Clock } from './principal';
export { ApiKeyResolver, DEFAULT_CACHE_TTL_MS, DEFAULT_NEGATIVE_CACHE_TTL_MS, DEFAULT_MAX_CACHE_ENTRIES } from './api-key-resolver';
export type { ApiKeyResolverOptions } from './api-key-resolver';
export { LastUsedTracker, DEFAULT_LAST_USED_FLUSH_MS } from './last-used-tracker';
export {
  TenantTokens,
  deriveTokenKey,
  TENANT_TOKEN_ISSUER,
  TENANT_TOKEN_AUDIENCE,
  TENANT_TOKEN_ALGORITHM,
  TENANT_TOKEN_HKDF_INFO,
  TENANT_TOKEN_DEFAULT_TTL_SECONDS,
  TENANT_TOKEN_MAX_TTL_SECONDS,
  TENANT_TOKEN_CLOCK_SKEW_SECONDS,
  tenantTokenTimeProblem,
} from './tenant-tokens';
export type { TenantTokenClaims, MintTenantTokenInput } from './tenant-tokens';
