// Outbound network access for plugins that fetch on a tenant's behalf (http, remote-mcp): the SSRF
// guard and a fetch built on it. Tagged type:plugin-sdk so plugins may import it. Plugins get the
// platform's policy as `setup`'s `ctx.outbound` (an OutboundNetwork); nothing here is process-wide.
export { AddressGuard, BLOCKED_RANGES } from './address-guard';
export type { AddressGuardOptions, AddressVerdict } from './address-guard';
export { createGuardedFetch, guardedLookup, checkUrl, readLimited, BlockedAddressError, DEFAULT_MAX_REDIRECTS } from './guarded-fetch';
export type { GuardedFetch, GuardedFetchHandle, GuardedFetchOptions } from './guarded-fetch';
export { outboundNetwork } from './outbound-network';
export type { OutboundNetwork, OutboundPolicy } from './outbound-network';
