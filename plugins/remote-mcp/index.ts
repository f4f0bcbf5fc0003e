import { createHash } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { definePlugin, secret, type ListedToolDefinition, type ToolAnnotations, type ToolContext, type ToolResult } from '@switchboard/plugin-sdk';
import { BlockedAddressError, type GuardedFetchHandle } from '@switchboard/plugin-net';

/** How long an upstream tool list is reused; `notifications/tools/list_changed` drops it sooner. */
export const TOOLS_CACHE_TTL_MS = 60_000;
/** One upstream request (connect, list, call) at most; the gateway's tool timeout may cut sooner. */
export const UPSTREAM_TIMEOUT_MS = 30_000;
/** An upstream connection unused this long is closed. */
export const UPSTREAM_IDLE_MS = 5 * 60_000;
/** Upstream metadata is hostile until proven otherwise: this many tools at most (the gateway also checks names and cuts descriptions). */
export const MAX_UPSTREAM_TOOLS = 200;

const configSchema = z.object({
  url: z.string().url().max(2048).refine((u) => /^https?:/i.test(u), 'http or https only').describe('The upstream MCP endpoint'),
  transport: z.enum(['streamable-http', 'sse']).default('streamable-http'),
  bearerToken: secret(z.string().min(1).max(8_192)).optional().describe('Sent as Authorization: Bearer …'),
});
type RemoteConfig = z.output<typeof configSchema>;

type UpstreamTool = {
  name: string;
  title?: string;
  description?: string;
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
  annotations?: ToolAnnotations;
};

interface Upstream {
  client: Client;
  tools: { at: number; list: UpstreamTool[] } | undefined;
  idle: NodeJS.Timeout | undefined;
  /** The gateway's callback for this tenant, from the latest listing. */
  listChanged: (() => void) | undefined;
}

/**
 * The plugin's state on one gateway, opened by `setup` and released by `close`: one guarded
 * connection pool under the platform's outbound policy, and one upstream connection per tenant
 * and configuration (a new token or URL connects anew).
 */
export class Upstreams {
  private readonly connections = new Map<string, Promise<Upstream>>();
  /** Tenants and configurations whose last listing failed: the next success tells their sessions. */
  private readonly failedListings = new Set<string>();
  private closed = false;

  constructor(private readonly outbound: GuardedFetchHandle) {}

  /** The connected upstream of this tenant and configuration, connecting on first use. */
  async get(tenantId: string, config: RemoteConfig, signal: AbortSignal): Promise<Upstream> {
    if (this.closed) throw new Error('the gateway is shutting down');
    const key = upstreamKey(tenantId, config);
    let pending = this.connections.get(key);
    if (!pending) {
      pending = this.connect(config, signal, () => this.connections.get(key) === pending && this.connections.delete(key));
      this.connections.set(key, pending);
      pending.catch(() => this.connections.get(key) === pending && this.connections.delete(key));
    }
    const connected = await pending;
    clearTimeout(connected.idle);
    connected.idle = setTimeout(() => void connected.client.close(), UPSTREAM_IDLE_MS);
    connected.idle.unref();
    return connected;
  }

  /** Records a listing's outcome; true when it succeeded after a failure (its sessions list again). */
  listed(tenantId: string, config: RemoteConfig, ok: boolean): boolean {
    const key = upstreamKey(tenantId, config);
    if (!ok) {
      this.failedListings.add(key);
      return false;
    }
    return this.failedListings.delete(key);
  }

  /** Upstream connections open now (for tests and logs). */
  get size(): number {
    return this.connections.size;
  }

  /** Closes every upstream connection, its idle timer, and the connection pool. */
  async close(): Promise<void> {
    this.closed = true;
    const pending = [...this.connections.values()];
    this.connections.clear();
    await Promise.all(
      pending.map(async (connecting) => {
        const upstream = await connecting.catch(() => undefined);
        if (!upstream) return;
        clearTimeout(upstream.idle);
        await upstream.client.close().catch(() => undefined);
      }),
    );
    await this.outbound.close();
  }

  private async connect(config: RemoteConfig, signal: AbortSignal, onClosed: () => void): Promise<Upstream> {
    const url = new URL(config.url);
    const fetch = this.outbound.fetch as unknown as FetchLike;
    const requestInit = config.bearerToken ? { headers: { authorization: `Bearer ${config.bearerToken}` } } : undefined;
    const transport =
      config.transport === 'sse'
        ? new SSEClientTransport(url, { requestInit, fetch, eventSourceInit: { fetch: fetch as never } })
        : new StreamableHTTPClientTransport(url, { requestInit, fetch });
    const client = new Client({ name: 'switchboard-remote-mcp', version: '1.0.0' }, { capabilities: {} });
    const state: Upstream = { client, tools: undefined, idle: undefined, listChanged: undefined };
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      state.tools = undefined;
      state.listChanged?.();
    });
    client.onclose = onClosed;
    await client.connect(transport, { timeout: UPSTREAM_TIMEOUT_MS, signal });
    return state;
  }
}

const upstreamKey = (tenantId: string, config: RemoteConfig) => createHash('sha256').update(JSON.stringify([tenantId, config])).digest('hex');

async function toolsOf(state: Upstream, signal: AbortSignal): Promise<UpstreamTool[]> {
  if (state.tools && Date.now() - state.tools.at < TOOLS_CACHE_TTL_MS) return state.tools.list;
  const { tools } = await state.client.listTools({}, { timeout: UPSTREAM_TIMEOUT_MS, signal });
  const list = tools.slice(0, MAX_UPSTREAM_TOOLS).map((t) => ({
    name: t.name,
    title: t.title,
    description: t.description,
    inputSchema: t.inputSchema as Record<string, unknown>,
    outputSchema: t.outputSchema as Record<string, unknown> | undefined,
    annotations: t.annotations as ToolAnnotations | undefined,
  }));
  state.tools = { at: Date.now(), list };
  return list;
}

async function callUpstream(name: string, args: Record<string, unknown>, ctx: ToolContext<RemoteConfig, Upstreams>): Promise<ToolResult> {
  try {
    const state = await ctx.state.get(ctx.tenant.id, ctx.config, ctx.signal);
    const result = await state.client.callTool({ name, arguments: args }, undefined, {
      timeout: UPSTREAM_TIMEOUT_MS,
      signal: ctx.signal,
      onprogress: (p) => void ctx.progress(p.progress, p.total, p.message),
    });
    // The upstream's own tool errors (isError) pass through as they are.
    return result as ToolResult;
  } catch (error) {
    return { content: [{ type: 'text', text: upstreamErrorMessage(error) }], isError: true };
  }
}

export default definePlugin({
  name: 'remote-mcp',
  version: '2.0.0',
  description: 'Federates an upstream MCP server (Streamable HTTP or SSE) with the tenant\'s own bearer token: its tools are listed as this plugin\'s.',
  config: configSchema,
  setup: (ctx) => new Upstreams(ctx.outbound.createFetch()),
  close: (upstreams) => upstreams.close(),
  tools: [],
  async listTools(ctx): Promise<ListedToolDefinition<RemoteConfig, Upstreams>[]> {
    const upstreams = ctx.state;
    let tools: UpstreamTool[];
    try {
      const state = await upstreams.get(ctx.tenant.id, ctx.config, ctx.signal);
      state.listChanged = ctx.listChanged;
      tools = await toolsOf(state, ctx.signal);
    } catch (error) {
      upstreams.listed(ctx.tenant.id, ctx.config, false);
      throw new Error(upstreamErrorMessage(error));
    }
    // Sessions opened while the upstream was away have none of its tools: they list again now.
    if (upstreams.listed(ctx.tenant.id, ctx.config, true)) ctx.listChanged();
    return tools.map((tool) => ({
      name: tool.name,
      ...(tool.title ? { title: tool.title } : {}),
      description: tool.description ?? '',
      inputSchema: tool.inputSchema,
      ...(tool.outputSchema ? { outputSchema: tool.outputSchema } : {}),
      ...(tool.annotations ? { annotations: tool.annotations } : {}),
      handler: (args, toolCtx) => callUpstream(tool.name, args, toolCtx),
    }));
  },
});

/** Connection refusals, HTTP errors, timeouts and JSON-RPC errors of the upstream, as a tool error says them. */
function upstreamErrorMessage(error: unknown): string {
  const cause = (error as { cause?: unknown })?.cause;
  const blocked = error instanceof BlockedAddressError ? error : cause instanceof BlockedAddressError ? cause : undefined;
  return blocked ? blocked.message : `Upstream MCP server error: ${error instanceof Error ? error.message : String(error)}`;
}
