// Outbound network access for plugins that fetch on a tenant's behalf (http, remote-mcp): the SSRF
// guard and a fetch built on it. Tagged type:plugin-sdk so plugins may import it.
export { AddressGuard, BLOCKED_RANGES } from './address-guard';
export type { AddressGuardOptions, AddressVerdict } from './address-guard';
export { createGuardedFetch, configureOutboundNetwork, guardedLookup, checkUrl, readLimited, BlockedAddressError, DEFAULT_MAX_REDIRECTS } from './guarded-fetch';
export type { GuardedFetch, GuardedFetchOptions } from './guarded-fetch';
