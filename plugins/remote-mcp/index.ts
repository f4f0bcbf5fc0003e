import { z } from 'zod';
import { definePlugin, secret, type ListedToolDefinition, type ToolContext, type ToolResult } from '@switchboard/plugin-sdk';
import { sdkConnector } from './upstream-connection';
import { blockedAddressOf } from './upstream-failures';
import { setsAuthorization, upstreamHeadersSchema } from './upstream-headers';
import { Upstreams } from './upstreams';

export { Upstreams, TOOLS_CACHE_TTL_MS, UPSTREAM_IDLE_MS } from './upstreams';
export { UPSTREAM_TIMEOUT_MS, MAX_UPSTREAM_TOOLS } from './upstream-connection';
export { BACKOFF_BASE_MS, BACKOFF_MAX_MS } from './upstream-failures';
export { MAX_UPSTREAM_HEADERS, MAX_UPSTREAM_HEADER_VALUE, MAX_UPSTREAM_HEADERS_TOTAL } from './upstream-headers';

const configSchema = z
  .object({
    url: z.string().url().max(2048).refine((u) => /^https?:/i.test(u), 'http or https only').describe('The upstream MCP endpoint'),
    transport: z.enum(['streamable-http', 'sse']).default('streamable-http'),
    bearerToken: secret(z.string().min(1).max(8_192)).optional().describe('Sent as Authorization: Bearer …'),
    headers: secret(upstreamHeadersSchema).optional().describe('Static headers sent on every upstream request (name → value)'),
  })
  .superRefine((config, ctx) => {
    // Two Authorization headers would leave the upstream to guess which one counts.
    if (config.bearerToken !== undefined && setsAuthorization(config.headers)) {
      ctx.addIssue({ code: 'custom', path: ['headers'], message: 'Authorization cannot be set here when bearerToken is set' });
    }
  });
type RemoteConfig = z.output<typeof configSchema>;

async function callUpstream(name: string, args: Record<string, unknown>, ctx: ToolContext<RemoteConfig, Upstreams>): Promise<ToolResult> {
  try {
    return await ctx.state.call(ctx.tenant.id, ctx.config, name, args, ctx.signal, (progress, total, message) => void ctx.progress(progress, total, message));
  } catch (error) {
    return { content: [{ type: 'text', text: upstreamErrorMessage(error) }], isError: true };
  }
}

export default definePlugin({
  name: 'remote-mcp',
  version: '2.1.0',
  description: 'Federates an upstream MCP server (Streamable HTTP or SSE) with the tenant\'s own bearer token or headers: its tools are listed as this plugin\'s.',
  config: configSchema,
  setup: (ctx) => {
    const outbound = ctx.outbound.createFetch();
    return new Upstreams(sdkConnector(outbound), () => outbound.close());
  },
  close: (upstreams) => upstreams.close(),
  tools: [],
  async listTools(ctx): Promise<ListedToolDefinition<RemoteConfig, Upstreams>[]> {
    let tools;
    try {
      tools = await ctx.state.list(ctx.tenant.id, ctx.config, ctx.signal, ctx.listChanged);
    } catch (error) {
      throw new Error(upstreamErrorMessage(error));
    }
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

/** Connection refusals, HTTP errors, timeouts, backoff and JSON-RPC errors of the upstream, as a tool error says them. */
function upstreamErrorMessage(error: unknown): string {
  const blocked = blockedAddressOf(error);
  return blocked ? blocked.message : `Upstream MCP server error: ${error instanceof Error ? error.message : String(error)}`;
}
