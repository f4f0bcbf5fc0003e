import { Inject, Injectable } from '@nestjs/common';
import { generateApiKey, type Clock } from '@switchboard/api-keys';
import { isUuid } from '@switchboard/config';
import { Prisma, PrismaClient, type ApiKey, type Tenant } from '@switchboard/db';
import { limitOverridesSchema } from '@switchboard/limits';
import { splitNamespacedTool, type PluginCatalog } from '@switchboard/plugin-runtime';
import type { PlatformSecrets } from '@switchboard/secrets';
import type { AdminPrincipal } from '../auth/admin-principal';
import { AuditService } from '../audit/audit.service';
import { API_CONFIG, CLOCK, PLATFORM_SECRETS, PLUGIN_CATALOG } from '../common/api-context';
import { ApiError, ApiErrorCode } from '../common/api-error';
import { ControlEventsPublisher } from '../common/control-events.publisher';
import { decodeCursor, toPage, type Page, type PageQuery } from '../common/pagination';
import type { ApiConfig } from '../config/api-config';
import { OAuthGrantRevocation } from '../oauth/oauth-grant-revocation';
import { TenantsService } from '../tenants/tenants.service';
import type { ApiKeyView, IssueApiKeyInput, IssuedApiKey, RotateApiKeyInput } from './api-keys.schemas';
import { clientSnippets, gatewayUrls, serverNameFor } from './client-snippets';

@Injectable()
export class ApiKeysService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly tenants: TenantsService,
    private readonly audit: AuditService,
    private readonly events: ControlEventsPublisher,
    private readonly grants: OAuthGrantRevocation,
    @Inject(PLATFORM_SECRETS) private readonly secrets: PlatformSecrets,
    @Inject(PLUGIN_CATALOG) private readonly catalog: PluginCatalog,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async issue(admin: AdminPrincipal, tenantRef: string, input: IssueApiKeyInput): Promise<IssuedApiKey> {
    const tenant = await this.tenants.findForAdmin(admin, tenantRef);
    const plugins = input.plugins ?? [];
    const tools = input.tools ?? [];
    await this.assertKnownPlugins(tenant, plugins);
    assertToolsWithinPlugins(tools, plugins);
    const virtualServers = input.virtualServers ?? [];
    await this.assertKnownVirtualServers(tenant, virtualServers);
    const expiresAt = input.expiresAt === undefined ? null : new Date(input.expiresAt);
    if (expiresAt && expiresAt.getTime() <= this.clock.now()) {
      throw ApiError.validation([{ path: 'expiresAt', message: 'must be in the future' }]);
    }
    const generated = generateApiKey(this.secrets.keyPeppers);
    const row = await this.prisma.$transaction(async (tx) => {
      const key = await tx.apiKey.create({
        data: {
          tenantId: tenant.id,
          name: input.name,
          publicId: generated.publicId,
          secretHash: generated.secretHash,
          pepperId: generated.pepperId,
          plugins,
          tools,
          virtualServers,
          limits: (input.limits ?? {}) as Prisma.InputJsonObject,
          expiresAt,
          createdBy: admin.actor,
        },
      });
      await this.audit.record(tx, {
        actor: admin.actor,
        action: 'api-key.issue',
        targetType: 'api-key',
        targetId: key.id,
        tenantId: tenant.id,
        details: { name: key.name, prefix: prefixOf(key), plugins, tools, virtualServers, expiresAt: input.expiresAt ?? null },
      });
      return key;
    });
    return this.issued(tenant, row, generated.token);
  }

  async list(admin: AdminPrincipal, tenantRef: string, page: PageQuery): Promise<Page<ApiKeyView>> {
    const tenant = await this.tenants.findForAdmin(admin, tenantRef);
    const after = decodeCursor(page.cursor);
    const rows = await this.prisma.apiKey.findMany({
      where: {
        tenantId: tenant.id,
        ...(after ? { OR: [{ createdAt: { gt: after.at } }, { createdAt: after.at, id: { gt: after.id } }] } : {}),
      },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: page.limit + 1,
    });
    return toPage(rows, page.limit, (row) => ({ at: row.createdAt, id: row.id }), (row) => this.view(row));
  }

  async get(admin: AdminPrincipal, tenantRef: string, keyId: string): Promise<ApiKeyView> {
    const tenant = await this.tenants.findForAdmin(admin, tenantRef);
    return this.view(await this.findKey(tenant, keyId));
  }

  /** Revokes a key at once; revoking a revoked key changes nothing. */
  async revoke(admin: AdminPrincipal, tenantRef: string, keyId: string): Promise<ApiKeyView> {
    const tenant = await this.tenants.findForAdmin(admin, tenantRef);
    const key = await this.findKey(tenant, keyId);
    if (key.revokedAt) return this.view(key);
    const now = new Date(this.clock.now());
    const { revoked, endedGrants } = await this.prisma.$transaction(async (tx) => {
      const updated = await tx.apiKey.update({ where: { id: key.id }, data: { revokedAt: now } });
      // The OAuth grants a person made by signing in with this key end with it.
      const grants = await this.grants.revokeWhere(tx, { keyId: key.id }, 'key_revoked', now);
      await this.audit.record(tx, {
        actor: admin.actor,
        action: 'api-key.revoke',
        targetType: 'api-key',
        targetId: key.id,
        tenantId: tenant.id,
        details: { name: key.name, prefix: prefixOf(key), revokedOAuthGrants: grants.map((grant) => grant.id) },
      });
      return { revoked: updated, endedGrants: grants };
    });
    await this.events.publish({ type: 'api-key.revoked', tenantId: tenant.id, keyId: key.id });
    await this.grants.announce(endedGrants);
    return this.view(revoked);
  }

  /**
   * Issues a new secret for the same name, plugins, tools, limits and expiry. The old key is revoked at
   * once, or keeps working for `gracePeriodSeconds` so deployments can switch over. OAuth grants
   * made with the old key end at once either way: the grace period is for configurations that
   * hold the static key, while a person signed in through OAuth signs in again with the new key.
   */
  async rotate(admin: AdminPrincipal, tenantRef: string, keyId: string, input: RotateApiKeyInput): Promise<IssuedApiKey> {
    const tenant = await this.tenants.findForAdmin(admin, tenantRef);
    const old = await this.findKey(tenant, keyId);
    if (this.statusOf(old) !== 'active') throw new ApiError(ApiErrorCode.API_KEY_NOT_ACTIVE, 'Only an active key can be rotated.');
    const now = this.clock.now();
    const grace = input.gracePeriodSeconds ?? 0;
    const graceEnds = new Date(now + grace * 1000);
    const generated = generateApiKey(this.secrets.keyPeppers);
    const { created, endedGrants } = await this.prisma.$transaction(async (tx) => {
      const fresh = await tx.apiKey.create({
        data: {
          tenantId: tenant.id,
          name: old.name,
          publicId: generated.publicId,
          secretHash: generated.secretHash,
          pepperId: generated.pepperId,
          plugins: old.plugins,
          tools: old.tools,
          virtualServers: old.virtualServers,
          limits: old.limits as Prisma.InputJsonObject,
          expiresAt: old.expiresAt,
          createdBy: admin.actor,
          rotatedFromId: old.id,
        },
      });
      await tx.apiKey.update({
        where: { id: old.id },
        data:
          grace > 0
            ? { expiresAt: old.expiresAt && old.expiresAt < graceEnds ? old.expiresAt : graceEnds }
            : { revokedAt: new Date(now) },
      });
      const grants = await this.grants.revokeWhere(tx, { keyId: old.id }, 'key_revoked', new Date(now));
      await this.audit.record(tx, {
        actor: admin.actor,
        action: 'api-key.rotate',
        targetType: 'api-key',
        targetId: old.id,
        tenantId: tenant.id,
        details: {
          name: old.name,
          oldPrefix: prefixOf(old),
          newKeyId: fresh.id,
          newPrefix: prefixOf(fresh),
          gracePeriodSeconds: grace,
          revokedOAuthGrants: grants.map((grant) => grant.id),
        },
      });
      return { created: fresh, endedGrants: grants };
    });
    await this.events.publish(
      grace > 0
        ? // Not a revocation (sessions may continue during the grace period), but gateways must
          // drop their cached copy of the old key so its new expiry applies on time.
          { type: 'tenant.changed', tenantId: tenant.id }
        : { type: 'api-key.revoked', tenantId: tenant.id, keyId: old.id },
    );
    await this.grants.announce(endedGrants);
    return this.issued(tenant, created, generated.token);
  }

  private async findKey(tenant: Tenant, keyId: string): Promise<ApiKey> {
    // Scoped by tenant: a key id of another tenant is simply not found.
    const key = isUuid(keyId) ? await this.prisma.apiKey.findFirst({ where: { id: keyId.toLowerCase(), tenantId: tenant.id } }) : null;
    if (!key) throw new ApiError(ApiErrorCode.API_KEY_NOT_FOUND);
    return key;
  }

  /**
   * A key lists installation names: one the tenant has (enabled or not), or the name of a plugin
   * of this platform, which is the default name of an installation the tenant may make later.
   */
  private async assertKnownPlugins(tenant: Tenant, plugins: string[]): Promise<void> {
    if (plugins.length === 0) return;
    const installed = await this.prisma.pluginInstallation.findMany({ where: { tenantId: tenant.id, name: { in: plugins } }, select: { name: true } });
    const names = new Set(installed.map((row) => row.name));
    const issues = plugins
      .map((name, index) => ({ name, index }))
      .filter(({ name }) => !names.has(name) && !this.catalog.get(name))
      .map(({ name, index }) => ({ path: `plugins.${index}`, message: `no installation of this tenant and no plugin of this platform is named "${name}"` }));
    if (issues.length > 0) throw ApiError.validation(issues);
  }

  /** A key restricted to virtual servers names ones the tenant has: 400 at `virtualServers.{i}` otherwise. */
  private async assertKnownVirtualServers(tenant: Tenant, names: string[]): Promise<void> {
    if (names.length === 0) return;
    const found = new Set((await this.prisma.virtualServer.findMany({ where: { tenantId: tenant.id, name: { in: names } }, select: { name: true } })).map((row) => row.name));
    const issues = names
      .map((name, index) => ({ name, index }))
      .filter(({ name }) => !found.has(name))
      .map(({ name, index }) => ({ path: `virtualServers.${index}`, message: `the tenant has no virtual server named "${name}"` }));
    if (issues.length > 0) throw ApiError.validation(issues);
  }

  private issued(tenant: Tenant, row: ApiKey, token: string): IssuedApiKey {
    const urls = gatewayUrls(this.config.publicGatewayUrl, tenant.slug, row.virtualServers[0]);
    return { key: this.view(row), secret: token, urls, clients: clientSnippets(serverNameFor(tenant.slug), urls, token) };
  }

  private statusOf(key: ApiKey): ApiKeyView['status'] {
    if (key.revokedAt) return 'revoked';
    if (key.expiresAt && key.expiresAt.getTime() <= this.clock.now()) return 'expired';
    return 'active';
  }

  /** Everything about a key except its secret and hash. */
  private view(key: ApiKey): ApiKeyView {
    const limits = limitOverridesSchema.safeParse(key.limits);
    return {
      id: key.id,
      tenantId: key.tenantId,
      name: key.name,
      prefix: prefixOf(key),
      status: this.statusOf(key),
      plugins: key.plugins,
      tools: key.tools,
      virtualServers: key.virtualServers,
      limits: limits.success ? limits.data : {},
      expiresAt: key.expiresAt?.toISOString() ?? null,
      revokedAt: key.revokedAt?.toISOString() ?? null,
      lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
      createdAt: key.createdAt.toISOString(),
      createdBy: key.createdBy,
      rotatedFromId: key.rotatedFromId,
    };
  }
}

/** A tool of an installation the key cannot use is a mistake: it would never be callable. */
function assertToolsWithinPlugins(tools: string[], plugins: string[]): void {
  if (plugins.length === 0) return;
  const issues = tools
    .map((name, index) => ({ installation: splitNamespacedTool(name)?.installation, index }))
    .filter(({ installation }) => installation !== undefined && !plugins.includes(installation))
    .map(({ installation, index }) => ({ path: `tools.${index}`, message: `installation "${installation}" is not among the key's plugins` }));
  if (issues.length > 0) throw ApiError.validation(issues);
}

function prefixOf(key: Pick<ApiKey, 'publicId'>): string {
  return `sbk_${key.publicId}`;
}
