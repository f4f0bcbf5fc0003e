import { Inject, Injectable } from '@nestjs/common';
import { Prisma, PrismaClient, type PluginInstallation, type Tenant } from '@switchboard/db';
import type { Logger } from '@switchboard/logger';
import {
  installationNameProblem,
  MAX_NAMESPACED_NAME_LENGTH,
  PLUGIN_NAME_PATTERN,
  namespacedName,
  type PluginCatalog,
  type PluginDescriptor,
} from '@switchboard/plugin-runtime';
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
 * Per-tenant plugin installations, each under a name unique per tenant (default: the plugin's
 * own), so one plugin can be installed several times (`github` and `linear`, both `remote-mcp`).
 * A configuration is validated against its plugin's schema; the fields it marks secret are split
 * off and stored as one AES-256-GCM envelope bound to `${tenantId}:${name}`, and never returned:
 * responses only say whether each one is set.
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
    const rows = await this.prisma.pluginInstallation.findMany({ where: { tenantId: tenant.id }, orderBy: { name: 'asc' } });
    return { items: rows.map((row) => this.view(row)) };
  }

  async get(admin: AdminPrincipal, tenantRef: string, name: string): Promise<PluginInstallationView> {
    const tenant = await this.tenants.findForAdmin(admin, tenantRef);
    return this.view(await this.findInstallation(tenant, name));
  }

  /**
   * Replaces the configuration of the installation named `name`, or installs `input.plugin`
   * (default: the plugin called `name`) under it. A `plugin` other than the installation's is a
   * conflict: the plugin of an installation never changes (uninstall, then install).
   */
  async put(admin: AdminPrincipal, tenantRef: string, name: string, input: PutPluginInput): Promise<PluginInstallationView> {
    const tenant = await this.tenants.findForAdmin(admin, tenantRef);
    const existing = couldBeStoredName(name) ? await this.prisma.pluginInstallation.findUnique({ where: { tenantId_name: { tenantId: tenant.id, name } } }) : null;
    if (existing && input.plugin !== undefined && input.plugin !== existing.plugin) throw nameTaken(name, existing.plugin);
    const descriptor = await this.descriptor(input.plugin ?? existing?.plugin ?? name);
    // Names made before named installations are valid as they are; a new one follows the rule.
    if (!existing) this.assertUsableName(name, descriptor);
    const given = input.config ?? {};
    // Secrets are write-only, so a client cannot send back what it never saw: keep the stored ones it omits.
    const kept = existing ? omitKeys(this.storedSecrets(existing), Object.keys(given)) : {};
    const config = this.validate(descriptor, { ...kept, ...given });
    return this.save(admin, tenant, name, descriptor, config, input.enabled ?? existing?.enabled ?? true, existing ? 'plugin.update' : 'plugin.install');
  }

  async patch(admin: AdminPrincipal, tenantRef: string, name: string, input: PatchPluginInput): Promise<PluginInstallationView> {
    const tenant = await this.tenants.findForAdmin(admin, tenantRef);
    const existing = await this.findInstallation(tenant, name);
    const descriptor = await this.descriptor(existing.plugin);
    const stored = { ...(existing.config as Config), ...this.storedSecrets(existing) };
    const config = this.validate(descriptor, { ...stored, ...(input.config ?? {}) });
    return this.save(admin, tenant, name, descriptor, config, input.enabled ?? existing.enabled, 'plugin.update');
  }

  async remove(admin: AdminPrincipal, tenantRef: string, name: string): Promise<void> {
    const tenant = await this.tenants.findForAdmin(admin, tenantRef);
    const existing = await this.findInstallation(tenant, name);
    await this.prisma.$transaction(async (tx) => {
      await tx.pluginInstallation.delete({ where: { id: existing.id } });
      await this.audit.record(tx, {
        actor: admin.actor,
        action: 'plugin.uninstall',
        targetType: 'plugin',
        targetId: name,
        tenantId: tenant.id,
        details: { plugin: existing.plugin },
      });
    });
    await this.events.publish({ type: 'plugins.changed', tenantId: tenant.id });
  }

  private async save(
    admin: AdminPrincipal,
    tenant: Tenant,
    name: string,
    descriptor: PluginDescriptor,
    config: Config,
    enabled: boolean,
    action: AuditAction,
  ): Promise<PluginInstallationView> {
    const { plain, secrets } = descriptor.splitSecrets(config);
    const sealed = Object.keys(secrets).length > 0 ? this.box.encrypt(secrets, pluginSecretsAad(tenant.id, name)) : null;
    const data = {
      enabled,
      config: plain as Prisma.InputJsonObject,
      secrets: sealed,
      secretsKeyId: sealed ? this.box.currentKeyId : null,
    };
    const row = await this.prisma.$transaction(async (tx) => {
      const saved = await this.upsert(tx, tenant, name, descriptor, data);
      await this.audit.record(tx, {
        actor: admin.actor,
        action,
        targetType: 'plugin',
        targetId: name,
        tenantId: tenant.id,
        // Field names only: even non-secret values may be sensitive to the tenant.
        details: { plugin: descriptor.name, enabled, configFields: Object.keys(plain), secretFieldsSet: Object.keys(secrets) },
      });
      return saved;
    });
    await this.events.publish({ type: 'plugins.changed', tenantId: tenant.id });
    return this.view(row, descriptor);
  }

  /**
   * Writes the row of `name`, only ever for `descriptor`'s plugin: an update is conditioned on the
   * plugin, so an installation of another plugin created meanwhile under the same name is a
   * conflict, never overwritten; a concurrent create of the same name loses on the unique index.
   */
  private async upsert(tx: Prisma.TransactionClient, tenant: Tenant, name: string, descriptor: PluginDescriptor, data: Prisma.PluginInstallationUpdateInput): Promise<PluginInstallation> {
    const where = { tenantId_name: { tenantId: tenant.id, name } };
    const updated = await tx.pluginInstallation.updateMany({ where: { tenantId: tenant.id, name, plugin: descriptor.name }, data });
    if (updated.count > 0) return tx.pluginInstallation.findUniqueOrThrow({ where });
    try {
      return await tx.pluginInstallation.create({ data: { ...(data as Prisma.PluginInstallationUncheckedCreateInput), tenantId: tenant.id, name, plugin: descriptor.name } });
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') throw nameTaken(name, undefined);
      throw error;
    }
  }

  private async descriptor(plugin: string): Promise<PluginDescriptor> {
    const descriptor = this.catalog.get(plugin) ?? (await this.templates.descriptor(plugin));
    if (!descriptor) throw new ApiError(ApiErrorCode.PLUGIN_NOT_FOUND, undefined, { issues: [{ path: 'plugin', message: `no plugin or server template named "${plugin}"` }] });
    return descriptor;
  }

  /** The name's own rule, and room for every declared tool once namespaced (`{name}__{tool}` ≤ 64). */
  private assertUsableName(name: string, descriptor: PluginDescriptor): void {
    const problem = installationNameProblem(name);
    if (problem) throw ApiError.validation([{ path: 'name', message: problem }]);
    const tooLong = descriptor.tools.find((tool) => namespacedName(name, tool.name).length > MAX_NAMESPACED_NAME_LENGTH);
    if (tooLong) {
      throw ApiError.validation([
        { path: 'name', message: `too long for this plugin: its tool "${namespacedName(name, tooLong.name)}" would be longer than ${MAX_NAMESPACED_NAME_LENGTH} characters` },
      ]);
    }
  }

  private async findInstallation(tenant: Tenant, name: string): Promise<PluginInstallation> {
    const row = couldBeStoredName(name)
      ? await this.prisma.pluginInstallation.findUnique({ where: { tenantId_name: { tenantId: tenant.id, name } } })
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
      return this.box.decrypt(row.secrets, pluginSecretsAad(row.tenantId, row.name));
    } catch (error) {
      this.logger.error({ err: error, tenantId: row.tenantId, installation: row.name, plugin: row.plugin }, 'plugin secrets cannot be decrypted');
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
      name: row.name,
      plugin: row.plugin,
      enabled: row.enabled,
      config: row.config as Config,
      secrets: Object.fromEntries(fields.map((field) => [field, { set: set.has(field) }])),
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
    };
  }
}

function nameTaken(name: string, plugin: string | undefined): ApiError {
  const of = plugin ? ` of plugin "${plugin}"` : '';
  return new ApiError(ApiErrorCode.INSTALLATION_NAME_TAKEN, undefined, {
    issues: [{ path: 'name', message: `the tenant already has an installation named "${name}"${of}; choose another name` }],
  });
}

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

/**
 * Whether a name from a URL could be stored at all: names made before named installations are
 * their plugin's (kebab case, at most 64 characters), new ones are shorter. Anything else (a NUL,
 * a slash) is not looked up, since Postgres would refuse it with an error instead of "not found".
 */
function couldBeStoredName(name: string): boolean {
  return name.length <= 64 && PLUGIN_NAME_PATTERN.test(name);
}
