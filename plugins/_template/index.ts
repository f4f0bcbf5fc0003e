import { z } from 'zod';
import { definePlugin, defineTool, PluginNotFoundError, secret, type ToolResult } from '@switchboard/plugin-sdk';

// COPY ME: `cp -r plugins/_template plugins/<your-name>`, then rename `greeter` below, in
// project.json and in the README. Folders starting with `_` are never loaded, so this one is not.
// docs/plugins.md explains each part.

/** Named constants for limits, defined once (they belong in the README too). */
export const MAX_NAME_LENGTH = 100;

// The tenant's configuration, validated by the admin API when they install the plugin and again
// by the gateway before handlers see it (as `ctx.config`, secrets decrypted).
const configSchema = z.object({
  greeting: z.string().max(50).default('Hello'),
  // secret(): stored encrypted, never returned by the admin API, never logged.
  apiKey: secret(z.string().min(8)).optional(),
});
type GreeterConfig = z.output<typeof configSchema>;

export default definePlugin({
  // Lower-case kebab case, unique on the platform. Tools appear as `greeter__hello`.
  name: 'greeter',
  version: '0.1.0',
  description: 'Greets people. A template to copy, not a plugin to install.',
  config: configSchema,
  // Per-call limit; without it the gateway's TOOL_TIMEOUT_MS applies. ctx.signal aborts at it.
  timeoutMs: 10_000,
  tools: [
    defineTool({
      name: 'hello',
      description: 'Greets someone by name.',
      input: z.object({ name: z.string().min(1).max(MAX_NAME_LENGTH).describe('Who to greet') }),
      annotations: { readOnlyHint: true, openWorldHint: false },
      handler: async ({ name }, ctx): Promise<ToolResult> => {
        // Typed here: tools are declared one by one, so they cannot infer the plugin's config type.
        const config = ctx.config as GreeterConfig;
        // Expected failures are error results the model can read and recover from.
        if (name.toLowerCase() === 'nobody') return { content: [{ type: 'text', text: 'There is nobody to greet.' }], isError: true };
        await ctx.progress(1, 1, 'greeting');
        // Never log ctx.config.apiKey or anything derived from it.
        ctx.logger.debug('greeting', { length: name.length });
        return { content: [{ type: 'text', text: `${config.greeting}, ${name}!` }], structuredContent: { greeting: config.greeting, name } };
      },
    }),
  ],
  resourceTemplates: [
    {
      uriTemplate: 'greeting://{name}',
      name: 'greeting',
      mimeType: 'text/plain',
      read: async (uri, { name }, ctx) => {
        // Unknown URIs: throw PluginNotFoundError, the gateway answers "resource not found".
        if (!name) throw new PluginNotFoundError(`Resource not found: ${uri}`);
        return [{ uri, mimeType: 'text/plain', text: `${ctx.config.greeting}, ${name}!` }];
      },
    },
  ],
});
