import type { LimitOverrides } from '@switchboard/limits';

/** Who is calling the gateway, resolved from an API key, a tenant token or an OAuth access token. */
export interface Principal {
  kind: 'api-key' | 'jwt' | 'oauth';
  tenantId: string;
  tenantSlug: string;
  /** The API key used, or the key that minted the tenant token; for an OAuth grant made through single sign-on (no key), the grant id. */
  keyId: string;
  /** End user named by a tenant token or an OAuth access token (`sub`); absent for API keys. */
  subject?: string;
  /** The OAuth grant an access token belongs to: revoking it closes what the token opened. */
  grantId?: string;
  /** For an OAuth token: the plugins its key allows (empty = every plugin), which a new consent could grant (step-up). */
  keyPlugins?: string[];
  /**
   * For an OAuth token: when its key expires (undefined = never). A session the token opens lasts
   * until then, not until the token's `exp`: every request brings its own live token, and a
   * refreshed token of the same grant carries the session on (2025 clients do not re-open a
   * session that answers 404).
   */
  keyExpiresAt?: number;
  /** Installations (by name) this caller may use; empty = every installation the tenant has enabled. */
  plugins: string[];
  /**
   * The key's tool allowlist, `{installation}__{tool}`; empty or absent = every tool of `plugins`.
   * Tenant tokens and OAuth grants made with the key inherit it.
   */
  tools?: string[];
  /**
   * The key's virtual servers (by name): when present, only their URLs (`/t/{tenant}/v/{name}/…`)
   * admit this caller. Tenant tokens and OAuth grants made with the key inherit it.
   */
  virtualServers?: string[];
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
