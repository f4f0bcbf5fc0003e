// The relying-party side of OpenID Connect, shared by the gateway (tenant single sign-on) and the
// admin API (operator sign-in to the console): discovery, JWKS and the code exchange through the
// SSRF-guarded fetch, and ID token validation.
export {
  OidcProviders,
  SSO_FETCH_TIMEOUT_MS,
  SSO_MAX_DOCUMENT_BYTES,
  SSO_CACHE_MS,
  SSO_JWKS_REFETCH_MS,
  SSO_FAILED_DISCOVERY_CACHE_MS,
} from './sso-provider';
export type { OidcDiscovery, SsoResult, CodeExchange, SsoProviderClient } from './sso-provider';
export { verifyIdToken, admitIdentity, keyForToken, ID_TOKEN_ALGORITHMS } from './id-token';
export type { IdTokenExpectation, SsoIdentity, IdTokenVerdict } from './id-token';
