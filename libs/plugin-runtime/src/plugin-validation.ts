import { z } from 'zod';
import { isSecretSchema, PLUGIN_MARK, type ObjectSchema, type Plugin } from '@switchboard/plugin-sdk';
import type { ConfigValidation, JsonSchema, PluginDescriptor, PromptDescriptor, ToolDescriptor } from './plugin-descriptor';
import { PluginLoadError } from './plugin-load.errors';

/** Names common LLM APIs accept for tools; prompts follow the same rule. */
export const TOOL_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** Kebab case without underscores, so the first `__` of a namespaced name is always the separator. */
export const PLUGIN_NAME_PATTERN = /^[a-z0-9]+(-[a-z0-9]+)*$/;
export const MAX_PLUGIN_NAME_LENGTH = 40;
export const NAMESPACE_SEPARATOR = '__';
export const MAX_NAMESPACED_NAME_LENGTH = 64;

/** `{plugin}__{tool}`: how the tenant-wide endpoint names a plugin's tool or prompt. */
export function namespacedName(plugin: string, name: string): string {
  return `${plugin}${NAMESPACE_SEPARATOR}${name}`;
}

const EMPTY_CONFIG = z.object({});

/** Finds the plugin in a loaded module: `export default definePlugin(...)`, `export const plugin`, or module.exports. */
export function pluginFromModule(mod: unknown): unknown {
  if (mod && typeof mod === 'object') {
    const record = mod as Record<string | symbol, unknown>;
    if (record[PLUGIN_MARK]) return record;
    if (record['default'] && typeof record['default'] === 'object') return record['default'];
    if (record['plugin'] && typeof record['plugin'] === 'object') return record['plugin'];
  }
  return mod;
}

function isObjectSchema(value: unknown): value is ObjectSchema {
  // Checked by shape rather than instanceof: an npm plugin may bring its own copy of zod 4.
  const def = (value as { _zod?: { def?: { type?: string } } } | undefined)?._zod?.def;
  return def?.type === 'object' && typeof (value as ObjectSchema).safeParse === 'function';
}

function toJsonSchema(schema: z.ZodType, what: string, problems: string[]): JsonSchema {
  try {
    return z.toJSONSchema(schema, { io: 'input' }) as JsonSchema;
  } catch (error) {
    problems.push(`${what} cannot be expressed as JSON Schema: ${(error as Error).message}`);
    return {};
  }
}

function formatIssues(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}

/** Checks a plugin definition completely and describes it; throws PluginLoadError listing every problem. */
export function describePlugin(candidate: unknown, source: string): PluginDescriptor {
  const problems: string[] = [];
  const plugin = candidate as Plugin;
  const name = typeof plugin?.name === 'string' ? plugin.name : '(unnamed)';
  const fail = () => new PluginLoadError(name, source, problems);

  if (!plugin || typeof plugin !== 'object') {
    problems.push('the module exports no plugin (expected `export default definePlugin({...})`)');
    throw fail();
  }
  if (!PLUGIN_NAME_PATTERN.test(name) || name.length > MAX_PLUGIN_NAME_LENGTH) {
    problems.push(`name must be lower-case kebab case (${PLUGIN_NAME_PATTERN}) of at most ${MAX_PLUGIN_NAME_LENGTH} characters`);
  }
  if (typeof plugin.version !== 'string' || plugin.version === '') problems.push('version is missing');
  if (typeof plugin.description !== 'string' || plugin.description === '') problems.push('description is missing');
  if (plugin.timeoutMs !== undefined && !(Number.isInteger(plugin.timeoutMs) && plugin.timeoutMs > 0)) {
    problems.push('timeoutMs must be a positive integer');
  }
  if (plugin.config !== undefined && !isObjectSchema(plugin.config)) problems.push('config must be a zod object schema');
  if (plugin.listTools !== undefined && typeof plugin.listTools !== 'function') problems.push('listTools must be a function');
  if (plugin.setup !== undefined && typeof plugin.setup !== 'function') problems.push('setup must be a function');
  if (plugin.close !== undefined && typeof plugin.close !== 'function') problems.push('close must be a function');
  if (!Array.isArray(plugin.tools)) {
    problems.push('tools must be an array');
    throw fail();
  }

  const tools: ToolDescriptor[] = [];
  const seenTools = new Set<string>();
  for (const [index, tool] of plugin.tools.entries()) {
    const label = `tool ${typeof tool?.name === 'string' ? `"${tool.name}"` : `#${index}`}`;
    if (typeof tool?.name !== 'string' || !TOOL_NAME_PATTERN.test(tool.name)) {
      problems.push(`${label}: name must match ${TOOL_NAME_PATTERN}`);
      continue;
    }
    if (seenTools.has(tool.name)) problems.push(`${label} is declared twice`);
    seenTools.add(tool.name);
    if (namespacedName(name, tool.name).length > MAX_NAMESPACED_NAME_LENGTH) {
      problems.push(`${label}: "${namespacedName(name, tool.name)}" is longer than ${MAX_NAMESPACED_NAME_LENGTH} characters`);
    }
    if (typeof tool.description !== 'string' || tool.description === '') problems.push(`${label}: description is missing`);
    if (typeof tool.handler !== 'function') problems.push(`${label}: handler must be a function`);
    if (!isObjectSchema(tool.input)) {
      problems.push(`${label}: input must be a zod object schema`);
      continue;
    }
    if (tool.output !== undefined && !isObjectSchema(tool.output)) problems.push(`${label}: output must be a zod object schema`);
    tools.push({
      name: tool.name,
      ...(tool.title ? { title: tool.title } : {}),
      description: tool.description,
      inputSchema: toJsonSchema(tool.input, `${label} input`, problems),
      ...(tool.output ? { outputSchema: toJsonSchema(tool.output, `${label} output`, problems) } : {}),
    });
  }

  const prompts: PromptDescriptor[] = [];
  const seenPrompts = new Set<string>();
  for (const prompt of plugin.prompts ?? []) {
    const label = `prompt "${String(prompt?.name)}"`;
    if (typeof prompt?.name !== 'string' || !TOOL_NAME_PATTERN.test(prompt.name)) {
      problems.push(`${label}: name must match ${TOOL_NAME_PATTERN}`);
      continue;
    }
    if (seenPrompts.has(prompt.name)) problems.push(`${label} is declared twice`);
    seenPrompts.add(prompt.name);
    if (typeof prompt.get !== 'function') problems.push(`${label}: get must be a function`);
    if (prompt.arguments !== undefined && !isObjectSchema(prompt.arguments)) {
      problems.push(`${label}: arguments must be a zod object schema`);
      continue;
    }
    const shape = (prompt.arguments?.shape ?? {}) as Record<string, z.ZodType>;
    prompts.push({
      name: prompt.name,
      ...(prompt.title ? { title: prompt.title } : {}),
      description: prompt.description,
      arguments: Object.entries(shape).map(([arg, schema]) => ({
        name: arg,
        ...(schema.description ? { description: schema.description } : {}),
        required: !schema.safeParse(undefined).success,
      })),
    });
  }

  const seenUris = new Set<string>();
  for (const resource of plugin.resources ?? []) {
    if (typeof resource?.uri !== 'string' || typeof resource.read !== 'function' || typeof resource.name !== 'string') {
      problems.push(`resource "${String(resource?.uri)}": uri, name and read() are required`);
    } else if (seenUris.has(resource.uri)) problems.push(`resource "${resource.uri}" is declared twice`);
    else seenUris.add(resource.uri);
  }
  for (const template of plugin.resourceTemplates ?? []) {
    if (typeof template?.uriTemplate !== 'string' || typeof template.read !== 'function' || typeof template.name !== 'string') {
      problems.push(`resource template "${String(template?.uriTemplate)}": uriTemplate, name and read() are required`);
    }
  }

  const configSchema: ObjectSchema = isObjectSchema(plugin.config) ? plugin.config : EMPTY_CONFIG;
  const shape = configSchema.shape as Record<string, z.ZodType>;
  const secretFields = [
    ...new Set([...(plugin.secretFields ?? []), ...Object.keys(shape).filter((key) => isSecretSchema(shape[key]))]),
  ];
  for (const field of secretFields) {
    if (!(field in shape)) problems.push(`secret field "${field}" is not in the config schema`);
  }
  const configJsonSchema = toJsonSchema(configSchema, 'config', problems);
  // Fields listed in secretFields get the same mark as secret(...) ones in the published schema.
  const properties = configJsonSchema['properties'] as Record<string, JsonSchema> | undefined;
  for (const field of secretFields) if (properties?.[field]) properties[field] = { ...properties[field], writeOnly: true };

  if (problems.length > 0) throw fail();

  const secretSet = new Set(secretFields);
  return {
    name,
    version: plugin.version,
    description: plugin.description,
    source,
    tools,
    prompts,
    configSchema: configJsonSchema,
    secretFields,
    ...(plugin.timeoutMs ? { timeoutMs: plugin.timeoutMs } : {}),
    validateConfig(input: unknown): ConfigValidation {
      const result = configSchema.safeParse(input ?? {});
      return result.success
        ? { ok: true, value: result.data as Record<string, unknown> }
        : { ok: false, issues: formatIssues(result.error) };
    },
    splitSecrets(config) {
      const plain: Record<string, unknown> = {};
      const secrets: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(config)) (secretSet.has(key) ? secrets : plain)[key] = value;
      return { plain, secrets };
    },
    plugin,
  };
}
