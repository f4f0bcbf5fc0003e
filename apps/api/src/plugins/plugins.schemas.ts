import { PLUGIN_NAME_PATTERN } from '@switchboard/plugin-runtime';
import { z } from 'zod';

const configObject = z.record(z.string(), z.unknown());

/**
 * Installs a plugin under the name in the URL, or replaces that installation's configuration.
 * `plugin` says which plugin (or server template); omitted = the installation's own, or for a new
 * one the plugin of that name, so `PUT …/plugins/echo` installs `echo` as `echo`. Omitted secret
 * fields keep their stored value.
 */
export const putPluginSchema = z
  .object({
    plugin: z.string().regex(PLUGIN_NAME_PATTERN, 'not a plugin name').max(64).optional(),
    config: configObject.optional(),
    enabled: z.boolean().optional(),
  })
  .strict();

/** Changes some fields: `config` is merged over the stored one, `enabled` toggles the installation. */
export const patchPluginSchema = z
  .object({
    config: configObject.optional(),
    enabled: z.boolean().optional(),
  })
  .strict()
  .refine((body) => Object.keys(body).length > 0, 'send config or enabled');

export const pluginInstallationViewSchema = z.object({
  /**
   * The installation's name, unique per tenant (at most 40 characters): its tool
   * namespace (`{name}__{tool}`), its URL (`/t/{tenant}/p/{name}/mcp`), what keys list in `plugins`.
   */
  name: z.string(),
  /** The plugin (or server template) installed. */
  plugin: z.string(),
  enabled: z.boolean(),
  /** Non-secret configuration fields. */
  config: configObject,
  /** Secret fields are write-only: only whether each one is set. */
  secrets: z.record(z.string(), z.object({ set: z.boolean() })),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});

export const pluginCatalogEntrySchema = z.object({
  name: z.string(),
  /** A code plugin, or a hosted MCP server (its tools appear once it runs). */
  kind: z.enum(['plugin', 'server-template']),
  version: z.string(),
  description: z.string(),
  tools: z.array(z.object({ name: z.string(), description: z.string(), inputSchema: z.record(z.string(), z.unknown()) })),
  configSchema: z.record(z.string(), z.unknown()),
  secretFields: z.array(z.string()),
});

export type PutPluginInput = z.output<typeof putPluginSchema>;
export type PatchPluginInput = z.output<typeof patchPluginSchema>;
export type PluginInstallationView = z.output<typeof pluginInstallationViewSchema>;
export type PluginCatalogEntry = z.output<typeof pluginCatalogEntrySchema>;
