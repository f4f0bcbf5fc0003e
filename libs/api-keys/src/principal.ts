import type { LimitOverrides } from '@switchboard/limits';

/** Who is calling the gateway, resolved from an API key or a tenant token. */
export interface Principal {
  kind: 'api-key' | 'jwt';
  tenantId: string;
  tenantSlug: string;
  /** The API key used, or the key that minted the tenant token. */
  keyId: string;
  /** End user named by a tenant token (`sub`); absent for API keys. */
  subject?: string;
  /** Plugins this caller may use; empty = every plugin the tenant has enabled. */
  plugins: string[];
  keyLimits: LimitOverrides;
  tenantLimits: LimitOverrides;
  /**
   * When this credential stops being valid (epoch ms): the key's expiry, or for a tenant token the
   * earlier of its `exp` and its key's expiry; undefined = no expiry. Open sessions close then.
   */
  expiresAt?: number;
}

export type ResolveFailure = 'malformed' | 'unknown' | 'revoked' | 'expired' | 'tenant_suspended';

export type ResolveResult = { ok: true; principal: Principal } | { ok: false; reason: ResolveFailure };

/** Injectable time source, so tests can move past an expiry without sleeping. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
