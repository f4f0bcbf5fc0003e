import { definePlugin, type ListedToolDefinition, type ObjectSchema, type ToolDefinition } from '@switchboard/plugin-sdk';
import { z } from 'zod';
import type { PluginDescriptor, ToolDescriptor } from './plugin-descriptor';
import { MAX_NAMESPACED_NAME_LENGTH, namespacedName, TOOL_NAME_PATTERN } from './plugin-validation';

/** Listed tools kept per plugin and tenant at most: where they come from is not trusted to be small. */
export const MAX_LISTED_TOOLS = 500;
/** Longer titles and descriptions are cut: they go into every client's tool list. */
export const MAX_LISTED_DESCRIPTION_CHARS = 4_000;

export interface ListedTools {
  /** The plugin as one tenant sees it: its declared tools, then the listed ones. */
  descriptor: PluginDescriptor;
  /** Listed tools left out, with the reason, for the log. */
  skipped: { name: string; reason: string }[];
}

/**
 * Adds the tools a plugin listed at run time (a federated or hosted server's) to its descriptor.
 * They are checked like declared tools, but a bad one is left out instead of failing the load:
 * a name outside the pattern, too long once namespaced, already taken, or an input schema that
 * is not an object schema.
 */
export function withListedTools(descriptor: PluginDescriptor, listed: readonly ListedToolDefinition[]): ListedTools {
  const taken = new Set(descriptor.tools.map((tool) => tool.name));
  const skipped: ListedTools['skipped'] = [];
  const described: ToolDescriptor[] = [];
  const definitions: ToolDefinition<ObjectSchema, unknown>[] = [];
  for (const tool of listed.slice(0, MAX_LISTED_TOOLS)) {
    const name = typeof tool?.name === 'string' ? tool.name : '';
    const reason = unusable(descriptor.name, tool, taken);
    if (reason) {
      skipped.push({ name: name.slice(0, 100), reason });
      continue;
    }
    taken.add(name);
    const title = tool.title ? { title: clip(tool.title) } : {};
    const description = clip(tool.description || name);
    described.push({ name, ...title, description, inputSchema: tool.inputSchema, ...(tool.outputSchema ? { outputSchema: tool.outputSchema } : {}) });
    definitions.push({
      name,
      ...title,
      description,
      // The arguments go to the listing's source as sent; the input schema above is what clients see.
      input: z.looseObject({}),
      ...(tool.annotations ? { annotations: tool.annotations } : {}),
      handler: (args, ctx) => tool.handler(args, ctx),
    });
  }
  if (listed.length > MAX_LISTED_TOOLS) skipped.push({ name: `(${listed.length - MAX_LISTED_TOOLS} more)`, reason: `more than ${MAX_LISTED_TOOLS} tools listed` });
  const plugin = definePlugin<ObjectSchema, unknown>({ ...descriptor.plugin, tools: [...descriptor.plugin.tools, ...definitions] });
  return { descriptor: { ...descriptor, tools: [...descriptor.tools, ...described], plugin }, skipped };
}

function unusable(plugin: string, tool: ListedToolDefinition, taken: ReadonlySet<string>): string | undefined {
  if (typeof tool?.name !== 'string' || !TOOL_NAME_PATTERN.test(tool.name)) return `name must match ${TOOL_NAME_PATTERN}`;
  if (namespacedName(plugin, tool.name).length > MAX_NAMESPACED_NAME_LENGTH) return `longer than ${MAX_NAMESPACED_NAME_LENGTH} characters once namespaced`;
  if (taken.has(tool.name)) return 'another tool of the plugin has this name';
  if (typeof tool.handler !== 'function') return 'handler must be a function';
  if (tool.inputSchema?.['type'] !== 'object') return 'inputSchema must be an object schema';
  return undefined;
}

function clip(text: string): string {
  return text.length > MAX_LISTED_DESCRIPTION_CHARS ? `${text.slice(0, MAX_LISTED_DESCRIPTION_CHARS)}…` : text;
}
