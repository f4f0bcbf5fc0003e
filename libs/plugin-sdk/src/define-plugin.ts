import { z } from 'zod';
import type { InteractiveContext, PluginContext, PluginSetupContext, ToolContext, ToolListingContext } from './plugin-context';
import type { PromptResult, ResourceContents, ToolAnnotations, ToolResult } from './mcp-content';

/** Any zod object schema, the shape of every input and config a plugin declares. */
export type ObjectSchema = z.ZodObject;

/** A tool handler may return a plain string (one text block) or a full result. */
export type ToolReturn = string | ToolResult;

export interface ToolDefinition<Input extends ObjectSchema = ObjectSchema, Config = unknown, State = unknown> {
  /** `[A-Za-z0-9_-]{1,64}`; the tenant-wide endpoint shows it as `{plugin}__{name}`. */
  name: string;
  title?: string;
  description: string;
  input: Input;
  /** When given, results must carry `structuredContent` matching it. */
  output?: ObjectSchema;
  annotations?: ToolAnnotations;
  handler(args: z.output<Input>, ctx: ToolContext<Config, State>): ToolReturn | Promise<ToolReturn>;
}

/**
 * A tool a plugin learns at run time, such as a federated server's: described by JSON Schema, as
 * it arrives, instead of zod. Its handler receives the arguments as the client sent them; the
 * server behind it validates them.
 */
export interface ListedToolDefinition<Config = unknown, State = unknown> {
  /** `[A-Za-z0-9_-]{1,64}`; tools with other names are left out of the list (and logged). */
  name: string;
  title?: string;
  description: string;
  /** JSON Schema of the arguments, an object schema. */
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
  annotations?: ToolAnnotations;
  handler(args: Record<string, unknown>, ctx: ToolContext<Config, State>): ToolReturn | Promise<ToolReturn>;
}

export interface ResourceDefinition<Config = unknown, State = unknown> {
  uri: string;
  name: string;
  title?: string;
  description?: string;
  mimeType?: string;
  read(ctx: InteractiveContext<Config, State>): ResourceContents[] | Promise<ResourceContents[]>;
}

/** Suggests values for one argument from what the user typed so far. */
export type Completer<Config = unknown, State = unknown> = (
  value: string,
  ctx: PluginContext<Config, State> & { arguments: Record<string, string> },
) => string[] | Promise<string[]>;

export interface ResourceTemplateDefinition<Config = unknown, State = unknown> {
  /** RFC 6570 template, e.g. `notes://{id}`. */
  uriTemplate: string;
  name: string;
  title?: string;
  description?: string;
  mimeType?: string;
  read(uri: string, variables: Record<string, string>, ctx: InteractiveContext<Config, State>): ResourceContents[] | Promise<ResourceContents[]>;
  complete?: Record<string, Completer<Config, State>>;
}

export interface PromptDefinition<Args extends ObjectSchema = ObjectSchema, Config = unknown, State = unknown> {
  name: string;
  title?: string;
  description: string;
  /** Prompt arguments are strings on the wire; declare each with z.string() (optional or not). */
  arguments?: Args;
  get(args: z.output<Args>, ctx: InteractiveContext<Config, State>): PromptResult | Promise<PromptResult>;
  complete?: Record<string, Completer<Config, State>>;
}

/**
 * @typeParam State what `setup` returns: the plugin's own clients, pools and timers on one gateway,
 *   handed to every handler as `ctx.state` and to `close` at shutdown.
 */
export interface PluginDefinition<ConfigSchema extends ObjectSchema = ObjectSchema, State = unknown> {
  /** Lower-case kebab case (`[a-z0-9]+(-[a-z0-9]+)*`), unique on the platform; appears in URLs. */
  name: string;
  version: string;
  description: string;
  /** The tenant's configuration. Mark secret fields with `secret(...)` or list them in `secretFields`. */
  config?: ConfigSchema;
  secretFields?: string[];
  /** Per-call limit for this plugin's handlers; the gateway's default applies when absent. */
  timeoutMs?: number;
  /**
   * Called once per gateway when it starts, before any call, with what the plugin needs from the
   * platform (outbound network, logger). What it opens (clients, pools, timers) it returns, and
   * `close` releases it. A throw stops start-up with an error naming the plugin.
   */
  setup?(ctx: PluginSetupContext): State | Promise<State>;
  /**
   * Called once when the gateway shuts down, after the last call: release what `setup` opened.
   * Bounded in time by the gateway; a throw is logged and does not stop the other plugins' close.
   */
  close?(state: State): void | Promise<void>;
  // NoInfer: State comes from setup's return type; tools, resources and prompts only receive it.
  tools: ToolDefinition<ObjectSchema, z.output<ConfigSchema>, NoInfer<State>>[];
  /**
   * Tools that depend on the tenant's configuration, listed after `tools`: a federated server's,
   * for example. Called whenever a tenant's plugins load (every few seconds while sessions
   * open), so keep the list cached; when it changes later, call `ctx.listChanged()` and open
   * sessions list again. A throw or a timeout leaves only `tools` for that load.
   */
  listTools?(ctx: ToolListingContext<z.output<ConfigSchema>, NoInfer<State>>): Promise<ListedToolDefinition<z.output<ConfigSchema>, NoInfer<State>>[]>;
  resources?: ResourceDefinition<z.output<ConfigSchema>, NoInfer<State>>[];
  resourceTemplates?: ResourceTemplateDefinition<z.output<ConfigSchema>, NoInfer<State>>[];
  prompts?: PromptDefinition<ObjectSchema, z.output<ConfigSchema>, NoInfer<State>>[];
}

/** Marks definitions made by definePlugin, across copies of this package (npm plugins bring their own). */
export const PLUGIN_MARK = Symbol.for('switchboard.plugin');

export type Plugin<ConfigSchema extends ObjectSchema = ObjectSchema, State = unknown> = Readonly<PluginDefinition<ConfigSchema, State>> & {
  readonly [PLUGIN_MARK]: true;
};

/** The one export of a plugin module: `export default definePlugin({ ... })`. */
export function definePlugin<ConfigSchema extends ObjectSchema = z.ZodObject<Record<string, never>>, State = unknown>(
  definition: PluginDefinition<ConfigSchema, State>,
): Plugin<ConfigSchema, State> {
  return Object.freeze({ ...definition, [PLUGIN_MARK]: true as const });
}

/**
 * Declares one tool with its argument types inferred from `input` (an array literal of tools
 * cannot infer per element, so each tool goes through this helper).
 */
export function defineTool<Input extends ObjectSchema, Config = unknown, State = unknown>(
  tool: ToolDefinition<Input, Config, State>,
): ToolDefinition<ObjectSchema, Config, State> {
  return tool as unknown as ToolDefinition<ObjectSchema, Config, State>;
}

export function definePrompt<Args extends ObjectSchema, Config = unknown, State = unknown>(
  prompt: PromptDefinition<Args, Config, State>,
): PromptDefinition<ObjectSchema, Config, State> {
  return prompt as unknown as PromptDefinition<ObjectSchema, Config, State>;
}

/**
 * Marks a config field as secret: stored encrypted, never returned by the admin API. The mark is
 * JSON Schema's own `writeOnly`, so it also shows in the published config schema.
 */
export function secret<S extends z.ZodType>(schema: S): S {
  return schema.meta({ writeOnly: true }) as S;
}

/** Wrappers that keep a field's meaning: `secret(x).optional()` is still a secret. */
const TRANSPARENT_WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional']);

/** Whether a config field was declared with `secret(...)`, also under `.optional()`, `.default()`... */
export function isSecretSchema(schema: z.ZodType): boolean {
  for (let current: z.ZodType | undefined = schema; current; ) {
    if (z.globalRegistry.get(current)?.writeOnly === true) return true;
    const def = current._zod.def as { type: string; innerType?: z.ZodType };
    current = TRANSPARENT_WRAPPERS.has(def.type) ? def.innerType : undefined;
  }
  return false;
}
