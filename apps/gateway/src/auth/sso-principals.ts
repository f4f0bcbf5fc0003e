import type { ApiKeyResolver, Clock, Principal, ResolveResult } from '@switchboard/api-keys';
import { systemClock } from '@switchboard/api-keys';
import type { ControlBus, ControlEvent } from '@switchboard/coordination';
import type { PrismaClient } from '@switchboard/db';
import { limitOverridesSchema, type LimitOverrides } from '@switchboard/limits';
import { readSsoSettings } from '@switchboard/oauth-policy';
import type { AccessTokenClaims } from './oauth-access-token';
import { pluginsOfScope } from './oauth-access-token';

/**
 * Principals of OAuth grants made through single sign-on (docs/oauth.md): there is no API key to
 * inherit from, so the principal is the tenant's. Its plugins are the grant's plugin scopes (only
 * plugins the tenant has enabled), its limits the tenant's defaults, its subject the SSO subject.
 * Its `keyId` is the grant id: a pseudo key id (a uuid, as usage records need), so the session
 * binding, per-key limits and metering work unchanged and count each SSO grant on its own.
 * Tenants are cached and forgotten on `tenant.changed` / `plugins.changed` / `tenant.deleted`, as
 * the key resolver's records are, so suspending a tenant or removing its provider applies within a second.
 */

export const SSO_TENANT_CACHE_TTL_MS = 60_000;

interface TenantRecord {
  slug: string;
  active: boolean;
  /** The issuer of the tenant's provider; undefined = SSO off. */
  ssoIssuer: string | undefined;
  plugins: string[];
  limits: LimitOverrides;
  loadedAt: number;
}

export class SsoPrincipals {
  private readonly tenants = new Map<string, TenantRecord>();
  private generation = 0;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly clock: Clock = systemClock,
  ) {}

  /** The principal of a verified access token without a `key` claim. */
  async principalFor(claims: AccessTokenClaims): Promise<ResolveResult> {
    const tenant = await this.tenant(claims.tenant);
    if (!tenant) return { ok: false, reason: 'unknown' };
    if (!tenant.active) return { ok: false, reason: 'tenant_suspended' };
    // The provider removed or replaced: its grants stop, as a revoked key's do.
    if (tenant.ssoIssuer === undefined || !claims.sub.startsWith(`sso:${tenant.ssoIssuer}#`)) return { ok: false, reason: 'revoked' };
    const scoped = pluginsOfScope(claims.scope);
    const plugins = scoped ? scoped.filter((plugin) => tenant.plugins.includes(plugin)) : [];
    // An empty list would mean "every plugin": a grant whose plugins are all gone grants nothing.
    if (scoped && plugins.length === 0) return { ok: false, reason: 'unknown' };
    const expiresAt = claims.exp * 1000;
    if (!Number.isFinite(expiresAt) || expiresAt <= this.clock.now()) return { ok: false, reason: 'expired' };
    const principal: Principal = {
      kind: 'oauth',
      tenantId: claims.tenant,
      tenantSlug: tenant.slug,
      keyId: claims.grant,
      subject: claims.sub,
      grantId: claims.grant,
      plugins,
      // A new consent could grant any plugin of the tenant (step-up).
      keyPlugins: [],
      keyLimits: {},
      tenantLimits: tenant.limits,
      expiresAt,
    };
    return { ok: true, principal };
  }

  /** Sessions and listen streams re-check their key id on tenant changes: for an SSO grant's pseudo key id, the grant. */
  async resolveGrant(grantId: string): Promise<ResolveResult> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(grantId)) return { ok: false, reason: 'unknown' };
    const grant = await this.prisma.oAuthGrant.findUnique({ where: { id: grantId }, select: { tenantId: true, keyId: true, subject: true, scopes: true, revokedAt: true } });
    if (!grant || grant.keyId !== null) return { ok: false, reason: 'unknown' };
    if (grant.revokedAt) return { ok: false, reason: 'revoked' };
    return this.principalFor({ tenant: grant.tenantId, sub: grant.subject, scope: grant.scopes.join(' '), grant: grantId, exp: Math.floor(this.clock.now() / 1000) + 60 } as AccessTokenClaims);
  }

  attach(bus: ControlBus): () => void {
    return bus.subscribe((event: ControlEvent) => {
      if (event.type === 'tenant.changed' || event.type === 'tenant.deleted' || event.type === 'plugins.changed') this.forget(event.tenantId);
    });
  }

  forget(tenantId: string): void {
    this.generation += 1;
    this.tenants.delete(tenantId);
  }

  private async tenant(tenantId: string): Promise<TenantRecord | undefined> {
    const cached = this.tenants.get(tenantId);
    if (cached && this.clock.now() - cached.loadedAt < SSO_TENANT_CACHE_TTL_MS) return cached;
    const generation = this.generation;
    const row = await this.prisma.tenant.findUnique({
      where: { id: tenantId },
      select: { slug: true, status: true, limits: true, oauth: true, plugins: { where: { enabled: true }, select: { name: true } } },
    });
    if (!row) return undefined;
    const parsed = limitOverridesSchema.safeParse(row.limits);
    const record: TenantRecord = {
      slug: row.slug,
      active: row.status === 'active',
      ssoIssuer: readSsoSettings(row.oauth)?.issuer,
      plugins: row.plugins.map((p) => p.name),
      limits: parsed.success ? parsed.data : {},
      loadedAt: this.clock.now(),
    };
    // A change heard while loading wins: the next request loads again.
    if (generation === this.generation) this.tenants.set(tenantId, record);
    return record;
  }
}

/** The key resolver as sessions use it, also answering for SSO grants' pseudo key ids. */
export function keysAndSsoGrants(keys: ApiKeyResolver, sso: SsoPrincipals): Pick<ApiKeyResolver, 'resolveKeyId'> {
  return {
    resolveKeyId: async (keyId) => {
      const resolved = await keys.resolveKeyId(keyId);
      return resolved.ok || resolved.reason !== 'unknown' ? resolved : sso.resolveGrant(keyId);
    },
  };
}
