import { Inject, Injectable } from '@nestjs/common';
import { Prisma, PrismaClient, type PluginInstallation, type Tenant } from '@switchboard/db';
import type { Logger } from '@switchboard/logger';
import { PLUGIN_NAME_PATTERN, type PluginCatalog, type PluginDescriptor } from '@switchboard/plugin-runtime';
import { pluginSecretsAad, SecretBox } from '@switchboard/secrets';
import type { AdminPrincipal } from '../auth/admin-principal';
import { AuditService, type AuditAction } from '../audit/audit.service';
import { LOGGER, PLUGIN_CATALOG } from '../common/api-context';
import { ApiError, ApiErrorCode } from '../common/api-error';
import { ControlEventsPublisher } from '../common/control-events.publisher';
import { ServerTemplatesService } from '../server-templates/server-templates.service';
import { TenantsService } from '../tenants/tenants.service';
import type { PatchPluginInput, PluginCatalogEntry, PluginInstallationView, PutPluginInput } from './plugins.schemas';

type Config = Record<string, unknown>;

/**
 * Per-tenant plugin installations. A plugin's configuration is validated against its own schema;
 * the fields it marks secret are split off and stored as one AES-256-GCM envelope bound to
 * `${tenantId}:${plugin}`, and never returned: responses only say whether each one is set.
 */
@Injectable()
export class PluginsService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly tenants: TenantsService,
    private readonly audit: AuditService,
    private readonly events: ControlEventsPublisher,
    private readonly box: SecretBox,
    @Inject(PLUGIN_CATALOG) private readonly catalog: PluginCatalog,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly templates: ServerTemplatesService,
  ) {}

  /** Code plugins, then the server templates platform admins registered (installed the same way). */
  async listCatalog(admin: AdminPrincipal): Promise<{ items: PluginCatalogEntry[] }> {
    const templates = await this.templates.descriptors(admin);
    return { items: [...this.catalog.list().map((d) => catalogEntry(d, 'plugin')), ...templates.map((d) => catalogEntry(d, 'server-template'))] };
  }

  async listInstalled(admin: AdminPrincipal, tenantRef: string): Promise<{ items: PluginInstallationView[] }> {
    const tenant = await this.tenants.findForAdmin(admin, tenantRef);
    const rows = await this.prisma.pluginInstallation.findMany({ where: { tenantId: tenant.id }, orderBy: { plugin: 'asc' } });
    return { items: rows.map((row) => this.view(row)) };
  }

  async get(admin: AdminPrincipal, tenantRef: string, plugin: string): Promise<PluginInstallationView> {
    const tenant = await this.tenants.findForAdmin(admin, tenantRef);
    return this.view(await this.findInstallation(tenant, plugin));
  }

  /** Installs, or replaces the configuration of an installed plugin. */
  async put(admin: AdminPrincipal, tenantRef: string, plugin: string, input: PutPluginInput): Promise<PluginInstallationView> {
    const tenant = await this.tenants.findForAdmin(admin, tenantRef);
    const descriptor = await this.descriptor(plugin);
    const existing = await this.prisma.pluginInstallation.findUnique({ where: { tenantId_plugin: { tenantId: tenant.id, plugin } } });
    const given = input.config ?? {};
    // Secrets are write-only, so a client cannot send back what it never saw: keep the stored ones it omits.
    const kept = existing ? omitKeys(this.storedSecrets(existing), Object.keys(given)) : {};
    const config = this.validate(descriptor, { ...kept, ...given });
    return this.save(admin, tenant, descriptor, config, input.enabled ?? existing?.enabled ?? true, existing ? 'plugin.update' : 'plugin.install');
  }

  async patch(admin: AdminPrincipal, tenantRef: string, plugin: string, input: PatchPluginInput): Promise<PluginInstallationView> {
    const tenant = await this.tenants.findForAdmin(admin, tenantRef);
    const descriptor = await this.descriptor(plugin);
    const existing = await this.findInstallation(tenant, plugin);
    const stored = { ...(existing.config as Config), ...this.storedSecrets(existing) };
    const config = this.validate(descriptor, { ...stored, ...(input.config ?? {}) });
    return this.save(admin, tenant, descriptor, config, input.enabled ?? existing.enabled, 'plugin.update');
  }

  async remove(admin: AdminPrincipal, tenantRef: string, plugin: string): Promise<void> {
    const tenant = await this.tenants.findForAdmin(admin, tenantRef);
    const existing = await this.findInstallation(tenant, plugin);
    await this.prisma.$transaction(async (tx) => {
      await tx.pluginInstallation.delete({ where: { id: existing.id } });
      await this.audit.record(tx, {
        actor: admin.actor,
        action: 'plugin.uninstall',
        targetType: 'plugin',
        targetId: plugin,
        tenantId: tenant.id,
      });
    });
    await this.events.publish({ type: 'plugins.changed', tenantId: tenant.id });
  }

  private async save(
    admin: AdminPrincipal,
    tenant: Tenant,
    descriptor: PluginDescriptor,
    config: Config,
    enabled: boolean,
    action: AuditAction,
  ): Promise<PluginInstallationView> {
    const { plain, secrets } = descriptor.splitSecrets(config);
    const sealed = Object.keys(secrets).length > 0 ? this.box.encrypt(secrets, pluginSecretsAad(tenant.id, descriptor.name)) : null;
    const data = {
      enabled,
      config: plain as Prisma.InputJsonObject,
      secrets: sealed,
      secretsKeyId: sealed ? this.box.currentKeyId : null,
    };
    const row = await this.prisma.$transaction(async (tx) => {
      const saved = await tx.pluginInstallation.upsert({
        where: { tenantId_plugin: { tenantId: tenant.id, plugin: descriptor.name } },
        create: { tenantId: tenant.id, plugin: descriptor.name, ...data },
        update: data,
      });
      await this.audit.record(tx, {
        actor: admin.actor,
        action,
        targetType: 'plugin',
        targetId: descriptor.name,
        tenantId: tenant.id,
        // Field names only: even non-secret values may be sensitive to the tenant.
        details: { enabled, configFields: Object.keys(plain), secretFieldsSet: Object.keys(secrets) },
      });
      return saved;
    });
    await this.events.publish({ type: 'plugins.changed', tenantId: tenant.id });
    return this.view(row, descriptor);
  }

  private async descriptor(plugin: string): Promise<PluginDescriptor> {
    const descriptor = this.catalog.get(plugin) ?? (await this.templates.descriptor(plugin));
    if (!descriptor) throw new ApiError(ApiErrorCode.PLUGIN_NOT_FOUND);
    return descriptor;
  }

  private async findInstallation(tenant: Tenant, plugin: string): Promise<PluginInstallation> {
    const row = PLUGIN_NAME_PATTERN.test(plugin)
      ? await this.prisma.pluginInstallation.findUnique({ where: { tenantId_plugin: { tenantId: tenant.id, plugin } } })
      : null;
    if (!row) throw new ApiError(ApiErrorCode.PLUGIN_NOT_INSTALLED);
    return row;
  }

  private validate(descriptor: PluginDescriptor, config: Config): Config {
    const result = descriptor.validateConfig(config);
    if (!result.ok) {
      const issues = result.issues.map((issue) => ({ path: issue.path ? `config.${issue.path}` : 'config', message: issue.message }));
      throw new ApiError(ApiErrorCode.INVALID_PLUGIN_CONFIG, undefined, { issues });
    }
    return result.value;
  }

  private storedSecrets(row: PluginInstallation): Config {
    if (!row.secrets) return {};
    try {
      return this.box.decrypt(row.secrets, pluginSecretsAad(row.tenantId, row.plugin));
    } catch (error) {
      this.logger.error({ err: error, tenantId: row.tenantId, plugin: row.plugin }, 'plugin secrets cannot be decrypted');
      throw new ApiError(
        ApiErrorCode.INTERNAL,
        'Stored plugin secrets cannot be decrypted; after rotating SECRETS_KEY, keep the old one in SECRETS_KEY_PREVIOUS.',
      );
    }
  }

  /** `descriptor` when known (server templates are not in the static catalog): lists unset secrets too. */
  private view(row: PluginInstallation, descriptor = this.catalog.get(row.plugin)): PluginInstallationView {
    const set = new Set(Object.keys(row.secrets ? this.storedSecrets(row) : {}));
    const fields = descriptor?.secretFields ?? [...set];
    return {
      plugin: row.plugin,
      enabled: row.enabled,
      config: row.config as Config,
      secrets: Object.fromEntries(fields.map((field) => [field, { set: set.has(field) }])),
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
    };
  }
}

/** The AAD that binds a secrets envelope to its row. */

function omitKeys(object: Config, keys: string[]): Config {
  const omitted = new Set(keys);
  return Object.fromEntries(Object.entries(object).filter(([key]) => !omitted.has(key)));
}

function catalogEntry(descriptor: PluginDescriptor, kind: PluginCatalogEntry['kind']): PluginCatalogEntry {
  return {
    name: descriptor.name,
    kind,
    version: descriptor.version,
    description: descriptor.description,
    tools: descriptor.tools.map((tool) => ({ name: tool.name, description: tool.description, inputSchema: tool.inputSchema })),
    configSchema: descriptor.configSchema,
    secretFields: descriptor.secretFields,
  };
}
