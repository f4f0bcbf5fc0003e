import { SpanKind, Tracing } from '@switchboard/tracing';
import { createHash } from 'node:crypto';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import type { PrismaClient } from '@switchboard/db';
import type { Logger } from '@switchboard/logger';
import { describeServerTemplate, modeOf, parseEnvDeclarations, type ServerTemplateSpec } from '@switchboard/hosted-servers';
import {
  MAX_LISTED_DESCRIPTION_CHARS,
  MAX_LISTED_TOOLS,
  MAX_NAMESPACED_NAME_LENGTH,
  namespacedName,
  TOOL_NAME_PATTERN,
  withListedTools,
  type PluginDescriptor,
} from '@switchboard/plugin-runtime';
import {
  definePlugin,
  PluginNotFoundError,
  type PromptDefinition,
  type PromptResult,
  type ResourceContents,
  type ResourceDefinition,
  type ResourceTemplateDefinition,
  type TenantStorage,
  type ToolContext,
  type ListedToolDefinition,
  type ToolResult,
} from '@switchboard/plugin-sdk';
import { z } from 'zod';
import type { ActivePlugin, PluginConfig } from '../catalog/session-catalog';
import type { HostedServer, HostedInstall } from './hosted-server';
import type { HostedServerPool } from './hosted-server-pool';

/** Entries taken from a server's lists at most (its metadata is not trusted to be small). */
const MAX_LISTED_ITEMS = MAX_LISTED_TOOLS;
/**
 * Upper bound of one forwarded request. The gateway's per-call timeout (TOOL_TIMEOUT_MS) aborts
 * earlier through ctx.signal; this only replaces the SDK's 60 s default, which would cut calls
 * that report progress.
 */
const FORWARDED_REQUEST_MAX_MS = 60 * 60_000;

type Listing = {
  tools: { name: string; title?: string; description?: string; inputSchema: Record<string, unknown>; outputSchema?: Record<string, unknown>; annotations?: Record<string, unknown> }[];
  prompts: { name: string; title?: string; description?: string; arguments?: { name: string; description?: string; required?: boolean }[] }[];
  resources: { uri: string; name: string; title?: string; description?: string; mimeType?: string }[];
  resourceTemplates: { uriTemplate: string; name: string; title?: string; description?: string; mimeType?: string }[];
};

/**
 * Turns a tenant's installation of a server template into an ActivePlugin whose tools, prompts
 * and resources are the running server's, forwarded through the HostedServerPool. Session
 * catalogs, namespacing (`{template}__{tool}`) and timeouts then work as for code plugins.
 */
export class HostedTemplatesService {
  /** Listings per installation fingerprint; dropped on list_changed or reconfiguration. */
  private readonly listings = new Map<string, Promise<Listing>>();

  constructor(
    private readonly prisma: PrismaClient,
    readonly pool: HostedServerPool,
    private readonly logger: Logger,
    /** OpenTelemetry: a client span per forwarded tool call, its context in the message's `_meta`. */
    private readonly tracing: Tracing = Tracing.disabled(),
  ) {}

  /** The template row of this name, if a platform admin registered one. */
  async find(name: string): Promise<ServerTemplateSpec | undefined> {
    const row = await this.prisma.serverTemplate.findUnique({ where: { name } });
    if (!row || row.kind !== 'stdio') return undefined;
    return { name: row.name, description: row.description, command: row.command, args: row.args, env: parseEnvDeclarations(row.env), defaultMode: row.defaultMode, updatedAt: row.updatedAt };
  }

  descriptorOf(spec: ServerTemplateSpec): PluginDescriptor {
    return describeServerTemplate(spec);
  }

  /**
   * Builds the plugin of this installation (named `name`: a tenant may install one template
   * several times, each with its own values, child and HOME); starts a server to list its tools
   * if none is cached.
   */
  async activate(tenantId: string, name: string, spec: ServerTemplateSpec, config: PluginConfig, storage: TenantStorage): Promise<{ plugin: ActivePlugin; fingerprint: string }> {
    const descriptor = describeServerTemplate(spec);
    const secretValues = descriptor.secretFields.map((field) => config[field]).filter((v): v is string => typeof v === 'string');
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([tenantId, name, spec.name, spec.command, spec.args, spec.env, spec.updatedAt?.toISOString(), modeOf(spec, config), config]))
      .digest('hex')
      .slice(0, 32);
    const install: HostedInstall = { tenantId, name, spec, config, mode: modeOf(spec, config), fingerprint, secretValues };
    const listing = await this.listing(install);
    return { plugin: { name, descriptor: this.forwardingDescriptor(descriptor, install, listing), config, storage }, fingerprint };
  }

  /** A child announced list_changed: list again next time. */
  forget(install: HostedInstall): void {
    this.listings.delete(install.fingerprint);
  }

  private listing(install: HostedInstall): Promise<Listing> {
    let cached = this.listings.get(install.fingerprint);
    if (!cached) {
      cached =
        install.mode === 'shared'
          ? this.pool.acquire(install, undefined).then((server) => server.use(() => listAll(server)))
          : this.pool.withProbe(install, listAll);
      cached.catch(() => this.listings.get(install.fingerprint) === cached && this.listings.delete(install.fingerprint));
      this.listings.set(install.fingerprint, cached);
    }
    return cached;
  }

  private forwardingDescriptor(base: PluginDescriptor, install: HostedInstall, listing: Listing): PluginDescriptor {
    const name = install.spec.name;
    const prompts = listing.prompts.filter((p) => TOOL_NAME_PATTERN.test(p.name) && namespacedName(name, p.name).length <= MAX_NAMESPACED_NAME_LENGTH);
    const call = <T>(ctx: { session: { id: string; closed: AbortSignal } }, work: (server: HostedServer) => Promise<T>) =>
      this.pool.acquire(install, ctx.session).then((server) => server.use(() => work(server)));

    const tools: ListedToolDefinition<PluginConfig>[] = listing.tools.map((tool) => ({
      name: tool.name,
      ...(tool.title ? { title: tool.title } : {}),
      description: tool.description ?? tool.name,
      // The server validates its own arguments; the gateway passes the object through.
      inputSchema: tool.inputSchema,
      ...(tool.outputSchema ? { outputSchema: tool.outputSchema } : {}),
      ...(tool.annotations ? { annotations: tool.annotations } : {}),
      handler: async (args: Record<string, unknown>, ctx: ToolContext<PluginConfig>): Promise<ToolResult> => {
        try {
          const attributes = { 'switchboard.hosted.server': name, 'mcp.tool.name': tool.name };
          return await this.tracing.inSpan('hosted tools/call', { kind: SpanKind.CLIENT, attributes }, async (span) => {
            // The trace context a stdio server can read: `_meta.traceparent`, as MCP messages carry it.
            const tc = this.tracing.carrier(span);
            return (await call(ctx, (server) =>
              server.client.callTool({ name: tool.name, arguments: args, ...(tc ? { _meta: { ...tc } } : {}) }, undefined, {
                signal: ctx.signal,
                timeout: FORWARDED_REQUEST_MAX_MS,
                onprogress: (p) => void ctx.progress(p.progress, p.total, p.message),
              }),
            )) as ToolResult;
          });
        } catch (error) {
          return { content: [{ type: 'text', text: forwardingError(name, error) }], isError: true };
        }
      },
    }));
    const promptDefinitions: PromptDefinition<z.ZodObject, PluginConfig>[] = prompts.map((prompt) => ({
      name: prompt.name,
      ...(prompt.title ? { title: clip(prompt.title) } : {}),
      description: clip(prompt.description ?? prompt.name),
      arguments: z.object(Object.fromEntries((prompt.arguments ?? []).map((a) => [a.name, a.required ? z.string() : z.string().optional()]))),
      get: (args, ctx) => call(ctx, async (server) => (await server.client.getPrompt({ name: prompt.name, arguments: args as Record<string, string> }, { signal: ctx.signal })) as PromptResult),
    }));
    const read = (uri: string, ctx: { signal: AbortSignal; session: { id: string; closed: AbortSignal } }) =>
      call(ctx, async (server) => {
        try {
          return (await server.client.readResource({ uri }, { signal: ctx.signal })).contents as ResourceContents[];
        } catch (error) {
          if (error instanceof McpError && error.code === -32002) throw new PluginNotFoundError(error.message);
          throw error;
        }
      });
    const resources: ResourceDefinition<PluginConfig>[] = listing.resources.map((r) => ({ ...strip(r), read: (ctx) => read(r.uri, ctx) }));
    const resourceTemplates: ResourceTemplateDefinition<PluginConfig>[] = listing.resourceTemplates.map((t) => ({ ...strip(t), read: (uri, _vars, ctx) => read(uri, ctx) }));

    const withoutTools: PluginDescriptor = {
      ...base,
      prompts: prompts.map((p) => ({
        name: p.name,
        description: clip(p.description ?? p.name),
        arguments: (p.arguments ?? []).map((a) => ({ name: a.name, ...(a.description ? { description: clip(a.description) } : {}), required: a.required === true })),
      })),
      plugin: definePlugin({ name, version: base.version, description: base.description, tools: [], prompts: promptDefinitions, resources, resourceTemplates }),
    };
    // Tools are checked and cut as every plugin's listed tools are.
    const { descriptor, skipped } = withListedTools(withoutTools, tools);
    for (const tool of skipped) this.logger.warn({ template: name, tool: tool.name, reason: tool.reason }, 'hosted server tool skipped');
    return descriptor;
  }
}

async function listAll(server: HostedServer): Promise<Listing> {
  const capabilities = server.client.getServerCapabilities() ?? {};
  const collect = async <T>(page: (cursor?: string) => Promise<{ items: T[]; nextCursor?: string }>): Promise<T[]> => {
    const items: T[] = [];
    let cursor: string | undefined;
    do {
      const result = await page(cursor);
      items.push(...result.items);
      cursor = result.nextCursor;
    } while (cursor && items.length < MAX_LISTED_ITEMS);
    return items.slice(0, MAX_LISTED_ITEMS);
  };
  const client = server.client;
  return {
    tools: capabilities.tools ? await collect(async (cursor) => { const r = await client.listTools({ cursor }); return { items: r.tools, nextCursor: r.nextCursor }; }) : [],
    prompts: capabilities.prompts ? await collect(async (cursor) => { const r = await client.listPrompts({ cursor }); return { items: r.prompts, nextCursor: r.nextCursor }; }) : [],
    resources: capabilities.resources ? await collect(async (cursor) => { const r = await client.listResources({ cursor }); return { items: r.resources, nextCursor: r.nextCursor }; }) : [],
    resourceTemplates: capabilities.resources
      ? await collect(async (cursor) => { const r = await client.listResourceTemplates({ cursor }); return { items: r.resourceTemplates, nextCursor: r.nextCursor }; })
      : [],
  } as Listing;
}

function clip(text: string): string {
  return text.length > MAX_LISTED_DESCRIPTION_CHARS ? `${text.slice(0, MAX_LISTED_DESCRIPTION_CHARS)}…` : text;
}

function strip<T extends { name: string; title?: string; description?: string }>(item: T): T {
  return { ...item, ...(item.title ? { title: clip(item.title) } : {}), ...(item.description ? { description: clip(item.description) } : {}) };
}

function forwardingError(template: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/Connection closed/i.test(message)) return `The ${template} server stopped during the call; it will be restarted on the next call.`;
  return `The ${template} server could not answer: ${message}`;
}
