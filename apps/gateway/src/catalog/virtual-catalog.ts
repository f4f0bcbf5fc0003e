import { namespacedName, splitNamespacedTool, toolAllowed } from '@switchboard/plugin-runtime';
import type { ActivePlugin, SessionCatalog, ToolEntry } from './session-catalog';

/** One tool of a virtual server as stored (apps/api/src/virtual-servers): the exposed name always written out. */
export interface VirtualTool {
  /** The tool on the tenant-wide URL, `{installation}__{tool}`. */
  source: string;
  /** What clients of the virtual server call it. */
  name: string;
  /** Shown instead of the tool's own description. */
  description?: string;
}

/** A tenant's curated endpoint, `/t/{tenant}/v/{name}/mcp`. */
export interface VirtualServerDefinition {
  name: string;
  tools: readonly VirtualTool[];
}

/**
 * The view of a virtual server: only its listed tools, under their exposed names and descriptions,
 * each running its source tool. Source names and every other tool are absent, so `tools/call`
 * refuses them exactly like a tool that does not exist. A source the credential's allowlists do
 * not cover, or whose installation or tool is gone, is left out the same way: the view is the
 * intersection of the server and the key. Tools only: prompts and resources are not curated
 * (no renames to apply to them), so a virtual server offers none.
 *
 * @param plugins the installations the credential may use (already narrowed by its `plugins`).
 * @param toolAllowlist the credential's tools, `{installation}__{tool}`; empty = all.
 */
export function buildVirtualCatalog(plugins: readonly ActivePlugin[], server: VirtualServerDefinition | undefined, toolAllowlist: readonly string[]): SessionCatalog {
  // Every tool the credential may reach, by its namespaced name.
  const sources = new Map<string, { entry: ToolEntry; described: Record<string, unknown> }>();
  for (const plugin of plugins) {
    plugin.descriptor.plugin.tools.forEach((tool, index) => {
      const full = namespacedName(plugin.name, tool.name);
      if (toolAllowed(toolAllowlist, full)) sources.set(full, { entry: { plugin, tool }, described: plugin.descriptor.tools[index] as unknown as Record<string, unknown> });
    });
  }
  const tools = new Map<string, ToolEntry>();
  const toolList: Record<string, unknown>[] = [];
  for (const listed of server?.tools ?? []) {
    const source = sources.get(listed.source);
    // The API keeps exposed names unique; a row written another way must still not shadow a tool.
    if (!source || tools.has(listed.name)) continue;
    const { tool } = source.entry;
    tools.set(listed.name, source.entry);
    toolList.push({
      name: listed.name,
      ...(tool.title ? { title: tool.title } : {}),
      description: listed.description ?? tool.description,
      inputSchema: source.described['inputSchema'],
      ...(source.described['outputSchema'] ? { outputSchema: source.described['outputSchema'] } : {}),
      ...(tool.annotations ? { annotations: tool.annotations } : {}),
    });
  }
  return {
    tools,
    toolList: { tools: toolList },
    prompts: new Map(),
    promptList: { prompts: [] },
    resources: new Map(),
    resourceList: { resources: [] },
    templates: [],
    templateList: { resourceTemplates: [] },
    // The installations its tools run in: what per-plugin work (hosted server start, list events) follows.
    plugins: [...new Set([...tools.values()].map((entry) => entry.plugin))],
  };
}

/** The stored `tools` JSON of a virtual server, read defensively: a malformed entry is skipped. */
export function virtualToolsOf(stored: unknown): VirtualTool[] {
  if (!Array.isArray(stored)) return [];
  return stored.flatMap((item: unknown) => {
    if (!item || typeof item !== 'object') return [];
    const { source, name, description } = item as Record<string, unknown>;
    if (typeof source !== 'string' || typeof name !== 'string') return [];
    return [{ source, name, ...(typeof description === 'string' ? { description } : {}) }];
  });
}

/** The installations a virtual server's tools come from (the `{installation}` of each source). */
export function sourceInstallationsOf(tools: readonly VirtualTool[]): Set<string> {
  return new Set(tools.map((tool) => splitNamespacedTool(tool.source)?.installation).filter((name): name is string => name !== undefined));
}
