import { z } from 'zod';
import { definePlugin, defineTool, PluginNotFoundError, secret, type ToolResult } from '@switchboard/plugin-sdk';

// COPY ME: `cp -r plugins/_template plugins/<your-name>`, then rename `greeter` below, in
// project.json and in the README. Folders starting with `_` are never loaded, so this one is not.
// docs/plugins.md explains each part.

/** Named constants for limits, defined once (they belong in the README too). */
export const MAX_NAME_LENGTH = 100;
/** A name greeted within this long is greeted "again". */
export const REMEMBER_MS = 60 * 60_000;
/** How often forgotten names are swept out of memory. */
export const SWEEP_INTERVAL_MS = 5 * 60_000;

/**
 * What this plugin keeps on one gateway, made by `setup` and released by `close`, as Fastify's
 * onClose does: what a plugin opens (clients, connection pools, timers) it closes itself. One
 * instance serves every tenant of the gateway, so key everything by `ctx.tenant.id`.
 */
export class RecentGreetings {
  private readonly seen = new Map<string, number>();
  // unref(): a sweep timer alone never keeps the process alive.
  private readonly sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref();

  constructor(private readonly now: () => number = Date.now) {}

  /** Whether this tenant greeted this name recently; remembers it from now. */
  greet(tenantId: string, name: string): boolean {
    const key = JSON.stringify([tenantId, name]);
    const last = this.seen.get(key);
    this.seen.set(key, this.now());
    return last !== undefined && this.now() - last < REMEMBER_MS;
  }

  close(): void {
    clearInterval(this.sweeper);
    this.seen.clear();
  }

  private sweep(): void {
    for (const [key, at] of this.seen) if (this.now() - at >= REMEMBER_MS) this.seen.delete(key);
  }
}

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
  // Once per gateway, before any call. What the platform offers (ctx.logger, ctx.outbound for
  // network access) arrives here; what this returns is every handler's ctx.state.
  setup: (ctx) => {
    ctx.logger.debug('greeter ready');
    return new RecentGreetings();
  },
  // Once at gateway shutdown, after the last call: release what setup opened.
  close: (recent) => recent.close(),
  tools: [
    defineTool({
      name: 'hello',
      description: 'Greets someone by name.',
      input: z.object({ name: z.string().min(1).max(MAX_NAME_LENGTH).describe('Who to greet') }),
      annotations: { readOnlyHint: true, openWorldHint: false },
      handler: async ({ name }, ctx): Promise<ToolResult> => {
        // Typed here: tools are declared one by one, so they cannot infer the plugin's config type.
        const config = ctx.config as GreeterConfig;
        const recent = ctx.state as RecentGreetings;
        // Expected failures are error results the model can read and recover from.
        if (name.toLowerCase() === 'nobody') return { content: [{ type: 'text', text: 'There is nobody to greet.' }], isError: true };
        await ctx.progress(1, 1, 'greeting');
        // Never log ctx.config.apiKey or anything derived from it.
        ctx.logger.debug('greeting', { length: name.length });
        const again = recent.greet(ctx.tenant.id, name);
        return {
          content: [{ type: 'text', text: `${config.greeting}${again ? ' again' : ''}, ${name}!` }],
          structuredContent: { greeting: config.greeting, name, again },
        };
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
