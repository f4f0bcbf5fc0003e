import { isUuid } from '@switchboard/config';
import type { ControlBus, ControlEvent } from '@switchboard/coordination';
import type { PrismaClient } from '@switchboard/db';
import { limitOverridesSchema, type LimitOverrides } from '@switchboard/limits';
import type { KeyRing } from '@switchboard/secrets';
import { hashSecret, parseApiKey, verifySecret } from './api-key-format';
import { systemClock, type Clock, type Principal, type ResolveResult } from './principal';
import type { TenantTokenClaims } from './tenant-tokens';

/**
 * Resolves presented API keys (and the keys behind tenant tokens) to a Principal, for the gateway.
 *
 * The gateway checks a key on every request, so rows are cached by public id for `cacheTtlMs`:
 * a cache hit never touches Postgres. The HMAC is still verified on every hit (the cache holds
 * the hash, never the secret), and expiry is checked against the clock on every hit, so a cached
 * key expires on time. Revocations, suspensions and deletions reach the cache through control
 * events (`attach(bus)`) within a second rather than after the TTL.
 */

export const DEFAULT_CACHE_TTL_MS = 60_000;
export const DEFAULT_NEGATIVE_CACHE_TTL_MS = 5_000;
/** Bounds memory when someone floods the gateway with random well-formed keys. */
export const DEFAULT_MAX_CACHE_ENTRIES = 10_000;

export interface ApiKeyResolverOptions {
  cacheTtlMs?: number;
  /** How long an unknown public id is remembered, so floods of bad keys do not hit Postgres. */
  negativeCacheTtlMs?: number;
  maxCacheEntries?: number;
  clock?: Clock;
}

/** What the cache holds about one key: enough to decide without Postgres, never the secret. */
interface KeyRecord {
  keyId: string;
  publicId: string;
  secretHash: Uint8Array;
  pepperId: string;
  plugins: string[];
  tools: string[];
  virtualServers: string[];
  keyLimits: LimitOverrides;
  expiresAt: number | null;
  revoked: boolean;
  tenantId: string;
  tenantSlug: string;
  tenantSuspended: boolean;
  tenantLimits: LimitOverrides;
}

interface CacheEntry {
  record: KeyRecord | null;
  expiresAt: number;
}

const KEY_WITH_TENANT = { tenant: { select: { slug: true, status: true, limits: true } } } as const;

export class ApiKeyResolver {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly publicIdByKeyId = new Map<string, string>();
  private readonly peppers = new Map<string, Buffer>();
  private readonly currentPepper: { id: string; key: Buffer };
  /** Keys being re-hashed under the current pepper right now, so each is written once. */
  private readonly rehashing = new Set<string>();
  private readonly cacheTtlMs: number;
  private readonly negativeCacheTtlMs: number;
  private readonly maxCacheEntries: number;
  private readonly clock: Clock;
  /**
   * Bumped by every invalidation. A database load that started before an invalidation must not
   * put its (possibly stale) row into the cache afterwards.
   */
  private generation = 0;

  constructor(
    private readonly prisma: PrismaClient,
    peppers: KeyRing,
    options: ApiKeyResolverOptions = {},
  ) {
    for (const pepper of [peppers.current, ...peppers.previous]) this.peppers.set(pepper.id, pepper.key);
    this.currentPepper = peppers.current;
    this.cacheTtlMs = options.cacheTtlMs ?? DEFAULT_CACHE_TTL_MS;
    this.negativeCacheTtlMs = options.negativeCacheTtlMs ?? DEFAULT_NEGATIVE_CACHE_TTL_MS;
    this.maxCacheEntries = options.maxCacheEntries ?? DEFAULT_MAX_CACHE_ENTRIES;
    this.clock = options.clock ?? systemClock;
  }

  /** Resolves a presented `sbk_…` key. */
  async resolve(token: string): Promise<ResolveResult> {
    const parsed = parseApiKey(token);
    if (!parsed) return { ok: false, reason: 'malformed' };
    const record = await this.recordByPublicId(parsed.publicId);
    const pepper = record && this.peppers.get(record.pepperId);
    // A wrong secret for a real public id answers exactly like an unknown key: public ids are
    // shown in listings, and must not let anyone probe a key's state.
    if (!record || !pepper || !verifySecret(parsed.secret, record.secretHash, pepper)) {
      return { ok: false, reason: 'unknown' };
    }
    if (record.pepperId !== this.currentPepper.id) this.rehashUnderCurrentPepper(record, parsed.secret);
    return this.decide(record, { kind: 'api-key', plugins: record.plugins });
  }

  /**
   * KEY_PEPPER rotation: a key hashed under a previous pepper is re-hashed under the current
   * one the first time it is presented (the secret exists only in that moment), so the previous
   * pepper can be dropped once `npm run admin -- key-peppers` shows no key left on it. Off the
   * request path: the caller is answered from the verified record; a failed write is retried
   * at the key's next use.
   */
  private rehashUnderCurrentPepper(record: KeyRecord, secret: string): void {
    if (this.rehashing.has(record.keyId)) return;
    this.rehashing.add(record.keyId);
    const { id, key } = this.currentPepper;
    void this.prisma.apiKey
      .updateMany({
        // Only from the pepper we verified against: a concurrent rotation elsewhere wins.
        where: { id: record.keyId, pepperId: record.pepperId },
        data: { secretHash: hashSecret(secret, key) as Uint8Array<ArrayBuffer>, pepperId: id },
      })
      .then(() => this.invalidateKey(record.keyId))
      .catch(() => undefined)
      .finally(() => this.rehashing.delete(record.keyId));
  }

  /** Is the key with this id (say, the one that minted a tenant token) still valid? */
  async resolveKeyId(keyId: string): Promise<ResolveResult> {
    const record = await this.recordByKeyId(keyId);
    if (!record) return { ok: false, reason: 'unknown' };
    return this.decide(record, { kind: 'api-key', plugins: record.plugins });
  }

  /**
   * The principal of a tenant token whose signature, audience and times were already verified
   * (passport-jwt or TenantTokens.verify): the minting key must still be valid and belong to the
   * token's tenant, and the token can only narrow the key's plugins. The principal expires with
   * the token or its key, whichever comes first.
   */
  async resolveTenantToken(claims: Pick<TenantTokenClaims, 'tenant' | 'key' | 'sub' | 'plugins' | 'exp'>): Promise<ResolveResult> {
    const record = await this.recordByKeyId(claims.key);
    if (!record || record.tenantId !== claims.tenant) return { ok: false, reason: 'unknown' };
    let plugins = record.plugins;
    if (claims.plugins && claims.plugins.length > 0) {
      plugins = record.plugins.length === 0 ? claims.plugins : claims.plugins.filter((p) => record.plugins.includes(p));
      // Keys' plugin lists never change after issue and the API mints only subsets, so this is
      // unreachable in practice; an empty list would mean "all plugins", so refuse instead.
      if (plugins.length === 0) return { ok: false, reason: 'revoked' };
    }
    return this.decide(record, { kind: 'jwt', plugins, subject: claims.sub }, claims.exp * 1000);
  }

  invalidateKey(keyId: string): void {
    this.generation += 1;
    const publicId = this.publicIdByKeyId.get(keyId);
    if (publicId) this.evict(publicId);
  }

  invalidateTenant(tenantId: string): void {
    this.generation += 1;
    for (const [publicId, entry] of this.cache) {
      if (entry.record?.tenantId === tenantId) this.evict(publicId);
    }
  }

  /** Follows revocations, tenant changes and deletions published by the API. Returns a detach function. */
  attach(bus: ControlBus): () => void {
    return bus.subscribe((event: ControlEvent) => {
      switch (event.type) {
        case 'api-key.revoked':
          this.invalidateKey(event.keyId);
          break;
        case 'tenant.changed':
        case 'tenant.deleted':
          this.invalidateTenant(event.tenantId);
          break;
        case 'plugins.changed':
        case 'session.terminate':
        case 'oauth-grant.revoked':
          break;
      }
    });
  }

  /** Forgets everything (tests, or an operator-triggered reload). */
  clear(): void {
    this.generation += 1;
    this.cache.clear();
    this.publicIdByKeyId.clear();
  }

  /** `tokenExpiresAt`: a tenant token's `exp` in epoch ms; the principal expires with it or the key. */
  private decide(record: KeyRecord, as: Pick<Principal, 'kind' | 'plugins' | 'subject'>, tokenExpiresAt?: number): ResolveResult {
    if (record.revoked) return { ok: false, reason: 'revoked' };
    if (record.expiresAt !== null && record.expiresAt <= this.clock.now()) return { ok: false, reason: 'expired' };
    if (record.tenantSuspended) return { ok: false, reason: 'tenant_suspended' };
    // Verified before, but checked again: an exp that is not a number must never mean "no expiry".
    if (tokenExpiresAt !== undefined && !(tokenExpiresAt > this.clock.now())) return { ok: false, reason: 'expired' };
    const expiresAt = Math.min(record.expiresAt ?? Infinity, tokenExpiresAt ?? Infinity);
    return {
      ok: true,
      principal: {
        kind: as.kind,
        tenantId: record.tenantId,
        tenantSlug: record.tenantSlug,
        keyId: record.keyId,
        ...(as.subject !== undefined ? { subject: as.subject } : {}),
        plugins: [...as.plugins],
        // Only a restricted key carries the list: absent means every tool, as an empty list would.
        ...(record.tools.length > 0 ? { tools: [...record.tools] } : {}),
        ...(record.virtualServers.length > 0 ? { virtualServers: [...record.virtualServers] } : {}),
        keyLimits: record.keyLimits,
        tenantLimits: record.tenantLimits,
        ...(Number.isFinite(expiresAt) ? { expiresAt } : {}),
      },
    };
  }

  private async recordByPublicId(publicId: string): Promise<KeyRecord | null> {
    const cached = this.fromCache(publicId);
    if (cached !== undefined) return cached;
    const generation = this.generation;
    const row = await this.prisma.apiKey.findUnique({ where: { publicId }, include: KEY_WITH_TENANT });
    const record = row ? toRecord(row) : null;
    if (generation === this.generation) this.store(publicId, record);
    return record;
  }

  private async recordByKeyId(keyId: string): Promise<KeyRecord | null> {
    const publicId = this.publicIdByKeyId.get(keyId);
    const cached = publicId === undefined ? undefined : this.fromCache(publicId);
    if (cached) return cached;
    if (!isUuid(keyId)) return null;
    const generation = this.generation;
    const row = await this.prisma.apiKey.findUnique({ where: { id: keyId }, include: KEY_WITH_TENANT });
    if (!row) return null;
    const record = toRecord(row);
    if (generation === this.generation) this.store(record.publicId, record);
    return record;
  }

  /** The cached record, null for a remembered unknown key, undefined on a miss. */
  private fromCache(publicId: string): KeyRecord | null | undefined {
    const entry = this.cache.get(publicId);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.clock.now()) {
      this.evict(publicId);
      return undefined;
    }
    return entry.record;
  }

  private store(publicId: string, record: KeyRecord | null): void {
    this.evict(publicId);
    // Maps iterate in insertion order, so the first entry is the oldest one.
    while (this.cache.size >= this.maxCacheEntries) {
      const oldest = this.cache.keys().next().value as string;
      this.evict(oldest);
    }
    const ttl = record ? this.cacheTtlMs : this.negativeCacheTtlMs;
    this.cache.set(publicId, { record, expiresAt: this.clock.now() + ttl });
    if (record) this.publicIdByKeyId.set(record.keyId, publicId);
  }

  private evict(publicId: string): void {
    const entry = this.cache.get(publicId);
    if (entry?.record) this.publicIdByKeyId.delete(entry.record.keyId);
    this.cache.delete(publicId);
  }
}

interface KeyRow {
  id: string;
  publicId: string;
  secretHash: Uint8Array;
  pepperId: string;
  plugins: string[];
  tools: string[];
  virtualServers: string[];
  limits: unknown;
  expiresAt: Date | null;
  revokedAt: Date | null;
  tenantId: string;
  tenant: { slug: string; status: string; limits: unknown };
}

function toRecord(row: KeyRow): KeyRecord {
  return {
    keyId: row.id,
    publicId: row.publicId,
    secretHash: row.secretHash,
    pepperId: row.pepperId,
    plugins: row.plugins,
    tools: row.tools,
    virtualServers: row.virtualServers,
    keyLimits: parseLimits(row.limits),
    expiresAt: row.expiresAt?.getTime() ?? null,
    revoked: row.revokedAt !== null,
    tenantId: row.tenantId,
    tenantSlug: row.tenant.slug,
    tenantSuspended: row.tenant.status !== 'active',
    tenantLimits: parseLimits(row.tenant.limits),
  };
}

/** Limits are validated by the API on write; a row edited by hand falls back to the defaults. */
function parseLimits(value: unknown): LimitOverrides {
  const parsed = limitOverridesSchema.safeParse(value);
  return parsed.success ? parsed.data : {};
}
