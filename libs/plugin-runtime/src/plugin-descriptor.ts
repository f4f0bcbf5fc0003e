import type { Plugin } from '@switchboard/plugin-sdk';

export type JsonSchema = Record<string, unknown>;

export interface ConfigIssue {
  /** Dotted path of the field (`auth.token`), or '' for the object itself. */
  path: string;
  message: string;
}

export type ConfigValidation = { ok: true; value: Record<string, unknown> } | { ok: false; issues: ConfigIssue[] };

export interface ToolDescriptor {
  name: string;
  title?: string;
  description: string;
  inputSchema: JsonSchema;
  outputSchema?: JsonSchema;
}

export interface PromptDescriptor {
  name: string;
  title?: string;
  description: string;
  arguments: { name: string; description?: string; required: boolean }[];
}

/** What the platform knows about one loaded, validated plugin. */
export interface PluginDescriptor {
  name: string;
  version: string;
  description: string;
  /** Where it was loaded from (folder or npm package), for messages. */
  source: string;
  tools: ToolDescriptor[];
  prompts: PromptDescriptor[];
  /** JSON Schema of the tenant configuration; secret fields carry `writeOnly: true`. */
  configSchema: JsonSchema;
  secretFields: string[];
  /** The plugin's own timeout, when it declares one (the gateway's default applies otherwise). */
  timeoutMs?: number;
  /** Validates a whole configuration (secret fields included) and applies defaults. */
  validateConfig(input: unknown): ConfigValidation;
  /** Splits a validated configuration into the clear part and the part to encrypt. */
  splitSecrets(config: Record<string, unknown>): { plain: Record<string, unknown>; secrets: Record<string, unknown> };
  /** The definition itself, which the gateway runs. */
  plugin: Plugin;
}
