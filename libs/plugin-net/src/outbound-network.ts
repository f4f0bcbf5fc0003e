import { AddressGuard } from './address-guard';
import { createGuardedFetch, type GuardedFetchHandle } from './guarded-fetch';

/**
 * What the platform operator lets plugins reach (the gateway's OUTBOUND_ALLOW_CIDRS). Tenants
 * configure plugins, never this.
 */
export interface OutboundPolicy {
  /** CIDR ranges reachable despite BLOCKED_RANGES; empty by default. */
  readonly allow: readonly string[];
}

/**
 * Outbound HTTP as the platform hands it to a plugin's `setup`: every fetch made from here
 * follows the platform's policy, so a plugin never chooses its own ranges.
 */
export interface OutboundNetwork {
  readonly policy: OutboundPolicy;
  /** A guarded fetch with its own connection pool: the plugin that asks for it closes it. */
  createFetch(options?: { maxRedirects?: number }): GuardedFetchHandle;
}

/** Binds the guarded fetch to one policy; a malformed range throws here, at start-up. */
export function outboundNetwork(policy: OutboundPolicy = { allow: [] }): OutboundNetwork {
  const allow = Object.freeze([...policy.allow]);
  new AddressGuard({ allow });
  return Object.freeze({
    policy: Object.freeze({ allow }),
    createFetch: (options: { maxRedirects?: number } = {}) => createGuardedFetch({ ...options, allow }),
  });
}
