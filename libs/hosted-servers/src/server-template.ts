import { z } from 'zod';
import { definePlugin, secret } from '@switchboard/plugin-sdk';
import { describePlugin, type PluginDescriptor } from '@switchboard/plugin-runtime';

export const SERVER_MODES = ['isolated', 'shared'] as const;
/** isolated: one child per MCP session; shared: one child per tenant and template on a node. */
export type ServerMode = (typeof SERVER_MODES)[number];

/** The config field with which a tenant overrides the template's default mode. */
export const MODE_FIELD = 'mode';
/** In a fixed `value`, replaced with the installation's private directory (also its HOME). */
export const HOME_PLACEHOLDER = '{home}';

export interface EnvDeclaration {
  name: string;
  description?: string;
  /** The tenant must provide it (ignored when `value` is set). */
  required?: boolean;
  /** Stored encrypted, never returned by the admin API. */
  secret?: boolean;
  /**
   * Set by the platform admin for every tenant; tenants cannot change it. `{home}` becomes the
   * installation's private directory, e.g. `MEMORY_FILE_PATH={home}/memory.jsonl`.
   */
  value?: string;
}

/** What the gateway and the API need of a ServerTemplate row. */
export interface ServerTemplateSpec {
  name: string;
  description: string;
  command: string;
  args: string[];
  env: EnvDeclaration[];
  defaultMode: ServerMode;
  updatedAt?: Date;
}

/**
 * A tenant's configuration of a template: one string field per declared, non-fixed variable
 * (secret ones marked write-only) and an optional `mode`. Anything else is refused with its field
 * path, so a tenant can never add a variable the platform admin did not declare.
 */
export function templateConfigSchema(spec: Pick<ServerTemplateSpec, 'env'>): z.ZodObject {
  const shape: Record<string, z.ZodType> = {};
  for (const declaration of spec.env) {
    if (declaration.value !== undefined) continue;
    let field: z.ZodType = z.string().max(8_192);
    if (declaration.description) field = field.describe(declaration.description);
    if (declaration.secret) field = secret(field);
    shape[declaration.name] = declaration.required ? field : field.optional();
  }
  shape[MODE_FIELD] = z.enum(SERVER_MODES).optional().describe('isolated: a process per session; shared: one per tenant');
  // A catch-all that never passes (rather than .strict()) reports each extra key at its own path.
  return z.object(shape).catchall(z.unknown().refine(() => false, { message: 'is not a variable this server template declares' }));
}

/**
 * The template as a plugin descriptor, so the catalog, config validation and secret splitting
 * treat it exactly like a code plugin. It lists no tools: those come from the running server.
 */
export function describeServerTemplate(spec: ServerTemplateSpec): PluginDescriptor {
  const plugin = definePlugin({
    name: spec.name,
    version: spec.updatedAt ? `template-${spec.updatedAt.toISOString()}` : 'template',
    description: spec.description || `Hosted MCP server: ${spec.command}`,
    config: templateConfigSchema(spec),
    tools: [],
  });
  const descriptor = describePlugin(plugin, `server template ${spec.name}`);
  // The catch-all above has no JSON Schema form; published, it means "nothing else".
  descriptor.configSchema['additionalProperties'] = false;
  return descriptor;
}

/** The mode an installation runs in: the tenant's choice, else the template's default. */
export function modeOf(spec: ServerTemplateSpec, config: Record<string, unknown>): ServerMode {
  const chosen = config[MODE_FIELD];
  return chosen === 'isolated' || chosen === 'shared' ? chosen : spec.defaultMode;
}

/** Reads the `env` JSON column defensively: rows are trusted, but typed here once. */
export function parseEnvDeclarations(json: unknown): EnvDeclaration[] {
  return envDeclarationsSchema.parse(json);
}

export const envDeclarationsSchema = z.array(
  z
    .object({
      name: z.string(),
      description: z.string().max(500).optional(),
      required: z.boolean().optional(),
      secret: z.boolean().optional(),
      value: z.string().max(4_096).optional(),
    })
    .strict(),
);
