import { UriTemplate } from '@modelcontextprotocol/sdk/shared/uriTemplate.js';
import { MAX_NAMESPACED_NAME_LENGTH, namespacedName, toolAllowed, type PluginDescriptor } from '@switchboard/plugin-runtime';
import type { ObjectSchema, TenantStorage, PromptDefinition, ResourceDefinition, ResourceTemplateDefinition, ToolDefinition, UpstreamCredentials } from '@switchboard/plugin-sdk';

/** A validated plugin configuration (secrets included). */
export type PluginConfig = Record<string, unknown>;

/** A plugin a tenant enabled, with its validated, decrypted configuration. */
export interface ActivePlugin {
  /**
   * The installation's name (the plugin's own unless installed under another): the namespace of
   * its tools and prompts, its URL, what keys and OAuth scopes name, what usage records.
   */
  name: string;
  descriptor: PluginDescriptor;
  config: PluginConfig;
  /** Storage bound to the tenant whose installation this is and to this plugin (see TenantPluginsService). */
  storage: TenantStorage;
  /** What the plugin's `setup` returned on this gateway; absent for hosted servers and plugins without setup. */
  state?: unknown;
  /** The installation's upstream OAuth credential (docs/upstream-oauth.md), bound to its tenant and installation. */
  upstreamCredentials?: UpstreamCredentials;
  /**
   * Per-user installations (docs/upstream-oauth.md "Per-user mode"): the credential of the call's
   * own person, bound per call from the caller's authenticated binding; replaces `upstreamCredentials`.
   */
  upstreamCredentialsFor?: (caller: { subject?: string | undefined; grantId?: string | undefined }) => UpstreamCredentials;
}

export interface ToolEntry {
  plugin: ActivePlugin;
  tool: ToolDefinition<ObjectSchema, PluginConfig>;
}

export interface PromptEntry {
  plugin: ActivePlugin;
  prompt: PromptDefinition<ObjectSchema, PluginConfig>;
}

export interface ResourceEntry {
  plugin: ActivePlugin;
  resource: ResourceDefinition<PluginConfig>;
}

export interface TemplateEntry {
  plugin: ActivePlugin;
  template: ResourceTemplateDefinition<PluginConfig>;
  matcher: UriTemplate;
}

/**
 * What one session can see: tools, prompts and resources of its plugins under the names it uses,
 * with the list responses precomputed. Built once per (tenant, endpoint, key allowlist) and shared
 * by every session with that view, so an idle session costs no per-session copy of it.
 */
export interface SessionCatalog {
  readonly tools: ReadonlyMap<string, ToolEntry>;
  readonly toolList: { tools: Record<string, unknown>[] };
  readonly prompts: ReadonlyMap<string, PromptEntry>;
  readonly promptList: { prompts: Record<string, unknown>[] };
  readonly resources: ReadonlyMap<string, ResourceEntry>;
  readonly resourceList: { resources: Record<string, unknown>[] };
  readonly templates: readonly TemplateEntry[];
  readonly templateList: { resourceTemplates: Record<string, unknown>[] };
  readonly plugins: readonly ActivePlugin[];
}

/**
 * @param namespaced the tenant-wide endpoint names tools and prompts `{installation}__{name}`; an
 *   installation's own endpoint uses the plugin's names.
 * @param toolAllowlist the key's tools, `{installation}__{tool}` on every endpoint; empty = all.
 *   A tool left out is absent from the catalog, so `tools/call` refuses it exactly like a tool
 *   that does not exist: the answer tells a caller nothing about its neighbours.
 */
export function buildSessionCatalog(plugins: readonly ActivePlugin[], namespaced: boolean, toolAllowlist: readonly string[] = []): SessionCatalog {
  const tools = new Map<string, ToolEntry>();
  const toolList: Record<string, unknown>[] = [];
  const prompts = new Map<string, PromptEntry>();
  const promptList: Record<string, unknown>[] = [];
  const resources = new Map<string, ResourceEntry>();
  const resourceList: Record<string, unknown>[] = [];
  const templates: TemplateEntry[] = [];
  const templateList: Record<string, unknown>[] = [];
  const exposed = (plugin: ActivePlugin, name: string) => (namespaced ? namespacedName(plugin.name, name) : name);

  for (const plugin of plugins) {
    const definition = plugin.descriptor.plugin;
    definition.tools.forEach((tool, index) => {
      const described = plugin.descriptor.tools[index];
      const full = namespacedName(plugin.name, tool.name);
      if (!toolAllowed(toolAllowlist, full)) return;
      // The plugin checked its names against its own name; a longer installation name can push one over.
      if (namespaced && full.length > MAX_NAMESPACED_NAME_LENGTH) return;
      const name = exposed(plugin, tool.name);
      tools.set(name, { plugin, tool });
      toolList.push({
        name,
        ...(tool.title ? { title: tool.title } : {}),
        description: tool.description,
        inputSchema: described.inputSchema,
        ...(described.outputSchema ? { outputSchema: described.outputSchema } : {}),
        ...(tool.annotations ? { annotations: tool.annotations } : {}),
      });
    });
    (definition.prompts ?? []).forEach((prompt, index) => {
      const described = plugin.descriptor.prompts[index];
      const name = exposed(plugin, prompt.name);
      if (name.length > MAX_NAMESPACED_NAME_LENGTH) return;
      prompts.set(name, { plugin, prompt });
      promptList.push({ ...described, name });
    });
    for (const resource of definition.resources ?? []) {
      // The first plugin to claim a URI serves it: URIs are the plugins' own, not namespaced.
      if (resources.has(resource.uri)) continue;
      resources.set(resource.uri, { plugin, resource });
      const { uri, name, title, description, mimeType } = resource;
      resourceList.push(strip({ uri, name, title, description, mimeType }));
    }
    for (const template of definition.resourceTemplates ?? []) {
      templates.push({ plugin, template, matcher: new UriTemplate(template.uriTemplate) });
      const { uriTemplate, name, title, description, mimeType } = template;
      templateList.push(strip({ uriTemplate, name, title, description, mimeType }));
    }
  }
  return {
    tools,
    toolList: { tools: toolList },
    prompts,
    promptList: { prompts: promptList },
    resources,
    resourceList: { resources: resourceList },
    templates,
    templateList: { resourceTemplates: templateList },
    plugins,
  };
}

function strip(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}
