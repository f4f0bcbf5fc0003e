import type { Principal } from '@switchboard/api-keys';
import type { PrismaClient } from '@switchboard/db';
import type { Logger } from '@switchboard/logger';
import { withListedTools, type PluginCatalog, type PluginDescriptor, type RunningPlugins } from '@switchboard/plugin-runtime';
import type { TenantStorage, UpstreamCredentials } from '@switchboard/plugin-sdk';
import { credentialModeOf, SHARED_SUBJECT, type UpstreamCredentialStore } from '@switchboard/upstream-auth';
import { pluginSecretsAad, type SecretBox } from '@switchboard/secrets';
import { GatewayError } from '../protocol/gateway-errors';
import type { HostedTemplatesService } from '../hosted/hosted-templates';
import type { PluginStores } from './plugin-stores';
import { buildSessionCatalog, type ActivePlugin, type SessionCatalog } from '../catalog/session-catalog';
import { buildVirtualCatalog, virtualToolsOf, type VirtualServerDefinition } from '../catalog/virtual-catalog';
import { recordedToolsOf, type InstallationToolList, type ToolListRecorder } from './tool-list-recorder';

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

/**
 * Which tools a session sees: one installation's endpoint, a virtual server's, or all, narrowed by
 * the key's allowlists.
 */
export interface CatalogScope {
  /** The installation a plugin URL names (`/t/{tenant}/p/{name}/…`); undefined on the tenant-wide URL. */
  plugin: string | undefined;
  /** The virtual server a URL names (`/t/{tenant}/v/{name}/…`); absent elsewhere. Never set with `plugin`. */
  virtual?: string | undefined;
  /** The credential's installation allowlist; empty = every enabled installation. */
  allowed: readonly string[];
  /** The credential's tool allowlist (`{installation}__{tool}`); empty = every tool of those. */
  tools: readonly string[];
}

/**
 * The scope of a credential on an endpoint: the one way every era builds it, so no path forgets
 * an allowlist or the virtual server (required, so a new caller cannot leave it out by accident).
 */
export function catalogScopeOf(principal: Pick<Principal, 'plugins' | 'tools'>, plugin: string | undefined, virtual: string | undefined): CatalogScope {
  return { plugin, virtual, allowed: principal.plugins, tools: principal.tools ?? [] };
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
  /** Upstream OAuth credentials (docs/upstream-oauth.md); absent = installations get none. */
  upstreamCredentials?: UpstreamCredentialStore;
  /** PUBLIC_GATEWAY_URL: per-user connect links in tool errors live under it; unset = none can be made. */
  upstreamConnectBase?: string | undefined;
  /** Where each installation's listed tools are recorded for the admin API; absent = not recorded. */
  toolLists?: ToolListRecorder;
  now?: () => number;
}

interface TenantEntry {
  loadedAt: number;
  plugins: Promise<ActivePlugin[]>;
  /** The tenant's virtual servers by name; loaded with the installations, invalidated with them. */
  virtualServers: Promise<Map<string, VirtualServerDefinition>>;
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
    // Names never contain ',' or '|' (installation and tool name patterns), so the key is unambiguous.
    // A virtual server's key starts with `v/`, which no installation name contains.
    const key = `${scope.virtual !== undefined ? `v/${scope.virtual}` : (scope.plugin ?? '*')}|${scope.allowed.join(',')}|${scope.tools.join(',')}`;
    const cached = entry.catalogs.get(key);
    if (cached) return cached;
    const visible = (await entry.plugins).filter(
      (p) => (scope.plugin === undefined || p.name === scope.plugin) && (scope.allowed.length === 0 || scope.allowed.includes(p.name)),
    );
    // A virtual server deleted under an open session leaves it an empty view, never the tenant's whole one.
    const built =
      scope.virtual !== undefined
        ? buildVirtualCatalog(visible, (await entry.virtualServers).get(scope.virtual), scope.tools)
        : buildSessionCatalog(visible, scope.plugin === undefined, scope.tools);
    entry.catalogs.set(key, built);
    return built;
  }

  /** Does this tenant have an installation of this name enabled (and working)? */
  async isEnabled(tenantId: string, name: string): Promise<boolean> {
    return (await this.entry(tenantId).plugins).some((p) => p.name === name);
  }

  /** Does this tenant have a virtual server of this name? */
  async hasVirtualServer(tenantId: string, name: string): Promise<boolean> {
    return (await this.entry(tenantId).virtualServers).has(name);
  }

  /** The names of the installations this tenant has enabled (and working). */
  async enabledPlugins(tenantId: string): Promise<string[]> {
    return (await this.entry(tenantId).plugins).map((p) => p.name);
  }

  invalidate(tenantId: string): void {
    this.tenants.delete(tenantId);
  }

  private entry(tenantId: string): TenantEntry {
    const existing = this.tenants.get(tenantId);
    if (existing && this.now() - existing.loadedAt < TENANT_PLUGINS_CACHE_TTL_MS) return existing;
    const entry: TenantEntry = { loadedAt: this.now(), plugins: this.load(tenantId), virtualServers: this.loadVirtualServers(tenantId), catalogs: new Map() };
    // A failed load must not stay cached: the next session asks again.
    const forget = () => this.tenants.get(tenantId) === entry && this.tenants.delete(tenantId);
    entry.plugins.catch(forget);
    entry.virtualServers.catch(forget);
    this.tenants.set(tenantId, entry);
    return entry;
  }

  private async load(tenantId: string): Promise<ActivePlugin[]> {
    const rows = await this.prisma.pluginInstallation.findMany({
      where: { tenantId, enabled: true },
      select: { id: true, name: true, plugin: true, config: true, secrets: true, updatedAt: true },
      orderBy: { name: 'asc' },
    });
    const active: ActivePlugin[] = [];
    // Hosted servers of installations still enabled; the others are stopped after this load.
    const hostedFingerprints = new Set<string>();
    // What each installation listed, for the admin API (GET /v1/tenants/{t}/tools).
    const listed: InstallationToolList[] = [];
    for (const row of rows) {
      const descriptor = this.catalog.get(row.plugin);
      const template = descriptor ? undefined : await this.hosted?.find(row.plugin);
      if (template && this.hosted) {
        try {
          const base = this.hosted.descriptorOf(template);
          const config = this.configOf(tenantId, row, base);
          const { plugin, fingerprint } = await this.hosted.activate(tenantId, row.name, template, config, this.storageFor(row.plugin, tenantId));
          active.push(plugin);
          listed.push({ installationId: row.id, updatedAt: row.updatedAt, tools: recordedToolsOf(plugin.descriptor.tools, base.tools) });
          hostedFingerprints.add(fingerprint);
        } catch (error) {
          this.logger.warn({ tenantId, installation: row.name, plugin: row.plugin, err: error }, 'hosted server unusable; plugin skipped');
        }
        continue;
      }
      if (!descriptor) {
        this.logger.warn({ tenantId, installation: row.name, plugin: row.plugin }, 'installed plugin is not loaded on this node; skipped');
        continue;
      }
      let config: Record<string, unknown>;
      try {
        config = this.configOf(tenantId, row, descriptor);
      } catch (error) {
        // One tenant's broken configuration hides that plugin from its sessions, nothing more.
        this.logger.warn({ tenantId, installation: row.name, plugin: row.plugin, err: error }, 'plugin configuration unusable; plugin skipped');
        continue;
      }
      const state = this.options.plugins.stateOf(descriptor.name);
      // Storage is the plugin's, shared by its installations on the tenant (a plugin's store is chosen by plugin).
      const perUser = credentialModeOf(config) === 'per-user';
      const credentials = this.credentialsOf(tenantId, row.id, row.name, perUser);
      const withTools = await this.listedToolsOf(tenantId, descriptor, config, state, credentials.upstreamCredentials);
      // A per-user installation's list is its declared one (in its config), never one person's; a failed listing is not a list.
      if (withTools.listed && !perUser) {
        listed.push({ installationId: row.id, updatedAt: row.updatedAt, tools: recordedToolsOf(withTools.descriptor.tools, descriptor.tools) });
      }
      active.push({
        name: row.name,
        descriptor: withTools.descriptor,
        config,
        storage: this.storageFor(row.plugin, tenantId),
        state,
        ...credentials,
      });
    }
    this.hosted?.pool.reconcile(tenantId, hostedFingerprints);
    // Not awaited: sessions wait for this load, never for the write.
    this.options.toolLists?.record(tenantId, listed);
    return active;
  }

  private async loadVirtualServers(tenantId: string): Promise<Map<string, VirtualServerDefinition>> {
    const rows = await this.prisma.virtualServer.findMany({ where: { tenantId }, select: { name: true, tools: true } });
    return new Map(rows.map((row) => [row.name, { name: row.name, tools: virtualToolsOf(row.tools) }]));
  }

  /**
   * The installation's upstream OAuth accessor, bound here to this tenant and installation so a
   * plugin cannot ask for another's. Shared: one accessor, for calls and listing. Per-user: one per
   * call, bound to the caller's principal where the call runs (plugin-calls.ts); listing gets none,
   * as the tool list is shared by every session and must not come from one person's account.
   */
  private credentialsOf(tenantId: string, installationId: string, installation: string, perUser: boolean): Pick<ActivePlugin, 'upstreamCredentials' | 'upstreamCredentialsFor'> {
    const store = this.options.upstreamCredentials;
    if (!store) return {};
    const target = { tenantId, tenantRef: tenantId, installationId, installation };
    if (perUser) {
      const connectBase = this.options.upstreamConnectBase;
      return { upstreamCredentialsFor: (caller) => store.personalAccessorFor({ ...target, connectBase }, caller) };
    }
    return { upstreamCredentials: store.accessorFor({ ...target, subject: SHARED_SUBJECT }) };
  }

  /** Bound here, from the tenant this list is loaded for, and per plugin: plugins cannot choose a tenant or read another plugin's store. */
  private storageFor(plugin: string, tenantId: string): TenantStorage {
    return this.options.stores.get(plugin)?.(tenantId);
  }

  /** The plugin with the tools it lists for this tenant (`listed`), or as declared when it lists none or listing fails. */
  private async listedToolsOf(
    tenantId: string,
    descriptor: PluginDescriptor,
    config: Record<string, unknown>,
    state: unknown,
    upstreamCredentials: UpstreamCredentials | undefined,
  ): Promise<{ descriptor: PluginDescriptor; listed: boolean }> {
    const listTools = descriptor.plugin.listTools;
    if (!listTools) return { descriptor, listed: false };
    try {
      const listed = await listTools({
        tenant: { id: tenantId },
        config,
        state,
        ...(upstreamCredentials ? { upstreamCredentials } : {}),
        signal: AbortSignal.timeout(LISTED_TOOLS_TIMEOUT_MS),
        listChanged: () => {
          this.invalidate(tenantId);
          this.options.onListChanged?.(tenantId);
        },
      });
      const { descriptor: withTools, skipped } = withListedTools(descriptor, listed);
      if (skipped.length > 0) this.logger.warn({ tenantId, plugin: descriptor.name, skipped: skipped.slice(0, 20) }, 'listed tools left out');
      return { descriptor: withTools, listed: true };
    } catch (error) {
      this.logger.warn({ tenantId, plugin: descriptor.name, err: error }, 'plugin could not list its tools; declared tools only');
      return { descriptor, listed: false };
    }
  }

  private configOf(tenantId: string, row: { name: string; config: unknown; secrets: string | null }, descriptor: PluginDescriptor): Record<string, unknown> {
    let secrets: Record<string, unknown> = {};
    if (row.secrets) {
      try {
        secrets = this.secretBox.decrypt(row.secrets, pluginSecretsAad(tenantId, row.name));
      } catch (error) {
        throw new GatewayError('plugin_secrets_unreadable', `secrets of installation ${row.name} cannot be decrypted`, { cause: error });
      }
    }
    const plain = row.config && typeof row.config === 'object' ? (row.config as Record<string, unknown>) : {};
    const validation = descriptor.validateConfig({ ...plain, ...secrets });
    if (!validation.ok) {
      const fields = validation.issues.map((issue) => issue.path || '(root)').join(', ');
      throw new GatewayError('plugin_config_invalid', `configuration of installation ${row.name} is invalid at: ${fields}`);
    }
    return validation.value;
  }
}
