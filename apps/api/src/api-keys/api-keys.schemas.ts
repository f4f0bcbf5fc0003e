import { z } from 'zod';
import { limitOverridesSchema } from '@switchboard/limits';
import { PLUGIN_NAME_PATTERN, splitNamespacedTool } from '@switchboard/plugin-runtime';
import { instantStringSchema } from '../common/instant';

/** Longest grace period for the old key on rotation: long enough for any deploy. */
export const MAX_ROTATION_GRACE_SECONDS = 7 * 24 * 3600;
const MAX_PLUGINS_PER_KEY = 100;
const MAX_TOOLS_PER_KEY = 500;

/** An installation name (the plugin's own for a default installation). */
export const pluginNameSchema = z.string().regex(PLUGIN_NAME_PATTERN, 'not a plugin name').max(64);

export const pluginListSchema = z
  .array(pluginNameSchema)
  .max(MAX_PLUGINS_PER_KEY)
  .refine((list) => new Set(list).size === list.length, 'lists a plugin twice');

/**
 * `{installation}__{tool}`, as the tenant-wide URL names it (also for calls on a plugin URL).
 * Only the form is checked here: an installation's tools can change after the key is issued
 * (a federated upstream lists its own), so a name the tenant does not have yet is allowed.
 */
export const toolListSchema = z
  .array(z.string().refine((name) => splitNamespacedTool(name) !== undefined, 'not a namespaced tool name: `{installation}__{tool}`, like github__search'))
  .max(MAX_TOOLS_PER_KEY)
  .refine((list) => new Set(list).size === list.length, 'lists a tool twice');

/** Virtual servers by name (the installation-name rule: kebab case, at most 40). */
export const virtualServerListSchema = z
  .array(z.string().regex(PLUGIN_NAME_PATTERN, 'not a virtual server name').max(40))
  .max(MAX_PLUGINS_PER_KEY)
  .refine((list) => new Set(list).size === list.length, 'lists a virtual server twice');

export const issueApiKeySchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    /** ISO 8601 date-time with zone; must be in the future (and before the year 10000). */
    expiresAt: instantStringSchema({ allowDate: false }).optional(),
    /** Plugins this key may use; omitted or empty = every plugin the tenant has enabled. */
    plugins: pluginListSchema.optional(),
    /** Tools this key may see and call; omitted or empty = every tool of its plugins. */
    tools: toolListSchema.optional(),
    /**
     * Virtual servers this key may use; omitted or empty = no such restriction. A key that lists
     * some is admitted only on their URLs (`/t/{tenant}/v/{name}/…`), never the tenant-wide or
     * an installation's URL; its `plugins` and `tools` narrow what it sees there further.
     */
    virtualServers: virtualServerListSchema.optional(),
    limits: limitOverridesSchema.optional(),
  })
  .strict();

export const rotateApiKeySchema = z
  .object({
    /** Seconds the old key keeps working; 0 or omitted revokes it at once. */
    gracePeriodSeconds: z.number().int().min(0).max(MAX_ROTATION_GRACE_SECONDS).optional(),
  })
  .strict()
  .optional()
  .transform((body) => body ?? {});

export const apiKeyViewSchema = z.object({
  id: z.uuid(),
  tenantId: z.uuid(),
  name: z.string(),
  /** `sbk_<publicId>`: enough to recognise a key, never enough to use it. */
  prefix: z.string(),
  status: z.enum(['active', 'revoked', 'expired']),
  plugins: z.array(z.string()),
  /** `{installation}__{tool}` names this key may use; empty = every tool of its plugins. */
  tools: z.array(z.string()),
  /** Virtual servers this key is restricted to; empty = none (every URL of the tenant). */
  virtualServers: z.array(z.string()),
  limits: limitOverridesSchema,
  expiresAt: z.iso.datetime().nullable(),
  revokedAt: z.iso.datetime().nullable(),
  lastUsedAt: z.iso.datetime().nullable(),
  createdAt: z.iso.datetime(),
  createdBy: z.string(),
  rotatedFromId: z.uuid().nullable(),
});

export const issuedApiKeySchema = z.object({
  key: apiKeyViewSchema,
  /** The full API key. Shown once: only its hash is stored. */
  secret: z.string(),
  urls: z.object({ sse: z.string(), streamableHttp: z.string() }),
  clients: z.object({
    cursor: z.unknown(),
    claudeDesktop: z.unknown(),
    vscode: z.unknown(),
    /** "URL only" entries for clients that sign in with OAuth: no key in them. */
    claudeConnector: z.unknown(),
    chatgptConnector: z.unknown(),
    cursorOAuth: z.unknown(),
    vscodeOAuth: z.unknown(),
  }),
});

export type IssueApiKeyInput = z.output<typeof issueApiKeySchema>;
export type RotateApiKeyInput = z.output<typeof rotateApiKeySchema>;
export type ApiKeyView = z.output<typeof apiKeyViewSchema>;
export type IssuedApiKey = z.output<typeof issuedApiKeySchema>;
