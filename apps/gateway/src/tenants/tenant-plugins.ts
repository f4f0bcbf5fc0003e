import type { PrismaClient } from '@switchboard/db';
import type { Logger } from '@switchboard/logger';
import { withListedTools, type PluginCatalog, type PluginDescriptor, type RunningPlugins } from '@switchboard/plugin-runtime';
import type { TenantStorage } from '@switchboard/plugin-sdk';
import { pluginSecretsAad, type SecretBox } from '@switchboard/secrets';
import { GatewayError } from '../protocol/gateway-errors';
import type { HostedTemplatesService } from '../hosted/hosted-templates';
import type { PluginStores } from './plugin-stores';
import { buildSessionCatalog, type ActivePlugin, type SessionCatalog } from '../catalog/session-catalog';

/**
 * How long a tenant's plugin installations are reused without asking Postgres. Control events
 * (`plugins.changed`) invalidate sooner; this bounds staleness when an event is lost.
 */
export const TENANT_PLUGINS_CACHE_TTL_MS = 5_000;
/**
 * How long a plugin's `listTools` may take. Sessions wait for their tenant's plugins, so a slow
 * source (a federated server far away) costs them this much at most, and only its listed tools.
 */
export const LISTED_TOOLS_TIMEOUT_MS = 5_000;

/** Which plugins a session sees: one plugin's endpoint, or all, narrowed by the key's allowlist. */
export interface CatalogScope {
  plugin: string | undefined;
  /** The credential's plugin allowlist; empty = every enabled plugin. */
  allowed: readonly string[];
}

export interface TenantPluginsOptions {
  /** The catalog's plugins after `setup`: their state goes on every context. */
  plugins: RunningPlugins;
  /** The stores plugins get as `ctx.storage`, by plugin name. */
  stores: PluginStores;
  /** Server templates installed like plugins; absent = code plugins only. */
  hosted?: HostedTemplatesService;
  /** A plugin said a tenant's listed tools changed (`listChanged`): tell its sessions. */
  onListChanged?: (tenantId: string) => void;
  now?: () => number;
}

interface TenantEntry {
  loadedAt: number;
  plugins: Promise<ActivePlugin[]>;
  catalogs: Map<string, SessionCatalog>;
}

/** The plugins each tenant enabled, their configs decrypted and validated, cached briefly. */
export class TenantPluginsService {
  private readonly tenants = new Map<string, TenantEntry>();
  private readonly hosted?: HostedTemplatesService;
  private readonly now: () => number;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly catalog: PluginCatalog,
    private readonly secretBox: SecretBox,
    private readonly logger: Logger,
    private readonly options: TenantPluginsOptions,
  ) {
    this.hosted = options.hosted;
    this.now = options.now ?? Date.now;
  }

  /** The view of a session with this scope; shared by every session with the same scope. */
  async catalogFor(tenantId: string, scope: CatalogScope): Promise<SessionCatalog> {
    const entry = this.entry(tenantId);
    const key = `${scope.plugin ?? '*'}|${scope.allowed.join(',')}`;
    const cached = entry.catalogs.get(key);
    if (cached) return cached;
    const visible = (await entry.plugins).filter(
      (p) =>
        (scope.plugin === undefined || p.descriptor.name === scope.plugin) &&
        (scope.allowed.length === 0 || scope.allowed.includes(p.descriptor.name)),
    );
    const built = buildSessionCatalog(visible, scope.plugin === undefined);
    entry.catalogs.set(key, built);
    return built;
  }

  /** Does this tenant have this plugin enabled (and working)? */
  async isEnabled(tenantId: string, plugin: string): Promise<boolean> {
    return (await this.entry(tenantId).plugins).some((p) => p.descriptor.name === plugin);
  }

  /** The names of the plugins this tenant has enabled (and working). */
  async enabledPlugins(tenantId: string): Promise<string[]> {
    return (await this.entry(tenantId).plugins).map((p) => p.descriptor.name);
  }

  invalidate(tenantId: string): void {
    this.tenants.delete(tenantId);
  }

  private entry(tenantId: string): TenantEntry {
    const existing = this.tenants.get(tenantId);
    if (existing && this.now() - existing.loadedAt < TENANT_PLUGINS_CACHE_TTL_MS) return existing;
    const entry: TenantEntry = { loadedAt: this.now(), plugins: this.load(tenantId), catalogs: new Map() };
    // A failed load must not stay cached: the next session asks again.
    entry.plugins.catch(() => this.tenants.get(tenantId) === entry && this.tenants.delete(tenantId));
    this.tenants.set(tenantId, entry);
    return entry;
  }

  private async load(tenantId: string): Promise<ActivePlugin[]> {
    const rows = await this.prisma.pluginInstallation.findMany({
      where: { tenantId, enabled: true },
      select: { plugin: true, config: true, secrets: true },
      orderBy: { plugin: 'asc' },
    });
    const active: ActivePlugin[] = [];
    // Hosted servers of installations still enabled; the others are stopped after this load.
    const hostedFingerprints = new Set<string>();
    for (const row of rows) {
      const descriptor = this.catalog.get(row.plugin);
      const template = descriptor ? undefined : await this.hosted?.find(row.plugin);
      if (template && this.hosted) {
        try {
          const config = this.configOf(tenantId, row, this.hosted.descriptorOf(template));
          const { plugin, fingerprint } = await this.hosted.activate(tenantId, template, config, this.storageFor(row.plugin, tenantId));
          active.push(plugin);
          hostedFingerprints.add(fingerprint);
        } catch (error) {
          this.logger.warn({ tenantId, plugin: row.plugin, err: error }, 'hosted server unusable; plugin skipped');
        }
        continue;
      }
      if (!descriptor) {
        this.logger.warn({ tenantId, plugin: row.plugin }, 'installed plugin is not loaded on this node; skipped');
        continue;
      }
      let config: Record<string, unknown>;
      try {
        config = this.configOf(tenantId, row, descriptor);
      } catch (error) {
        // One tenant's broken configuration hides that plugin from its sessions, nothing more.
        this.logger.warn({ tenantId, plugin: row.plugin, err: error }, 'plugin configuration unusable; plugin skipped');
        continue;
      }
      const state = this.options.plugins.stateOf(descriptor.name);
      active.push({ descriptor: await this.listedToolsOf(tenantId, descriptor, config, state), config, storage: this.storageFor(row.plugin, tenantId), state });
    }
    this.hosted?.pool.reconcile(tenantId, hostedFingerprints);
    return active;
  }

  /** Bound here, from the tenant this list is loaded for, and per plugin: plugins cannot choose a tenant or read another plugin's store. */
  private storageFor(plugin: string, tenantId: string): TenantStorage {
    return this.options.stores.get(plugin)?.(tenantId);
  }

  /** The plugin with the tools it lists for this tenant, or as declared when listing fails. */
  private async listedToolsOf(tenantId: string, descriptor: PluginDescriptor, config: Record<string, unknown>, state: unknown): Promise<PluginDescriptor> {
    const listTools = descriptor.plugin.listTools;
    if (!listTools) return descriptor;
    try {
      const listed = await listTools({
        tenant: { id: tenantId },
        config,
        state,
        signal: AbortSignal.timeout(LISTED_TOOLS_TIMEOUT_MS),
        listChanged: () => {
          this.invalidate(tenantId);
          this.options.onListChanged?.(tenantId);
        },
      });
      const { descriptor: withTools, skipped } = withListedTools(descriptor, listed);
      if (skipped.length > 0) this.logger.warn({ tenantId, plugin: descriptor.name, skipped: skipped.slice(0, 20) }, 'listed tools left out');
      return withTools;
    } catch (error) {
      this.logger.warn({ tenantId, plugin: descriptor.name, err: error }, 'plugin could not list its tools; declared tools only');
      return descriptor;
    }
  }

  private configOf(tenantId: string, row: { plugin: string; config: unknown; secrets: string | null }, descriptor: PluginDescriptor): Record<string, unknown> {
    let secrets: Record<string, unknown> = {};
    if (row.secrets) {
      try {
        secrets = this.secretBox.decrypt(row.secrets, pluginSecretsAad(tenantId, row.plugin));
      } catch (error) {
        throw new GatewayError('plugin_secrets_unreadable', `secrets of plugin ${row.plugin} cannot be decrypted`, { cause: error });
      }
    }
    const plain = row.config && typeof row.config === 'object' ? (row.config as Record<string, unknown>) : {};
    const validation = descriptor.validateConfig({ ...plain, ...secrets });
    if (!validation.ok) {
      const fields = validation.issues.map((issue) => issue.path || '(root)').join(', ');
      throw new GatewayError('plugin_config_invalid', `configuration of plugin ${row.plugin} is invalid at: ${fields}`);
    }
    return validation.value;
  }
}
