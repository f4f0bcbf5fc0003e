import { z } from 'zod';
import { definePlugin, secret, UpstreamAuthorizationError, UpstreamConnectRequiredError, type ListedToolDefinition, type ToolContext, type ToolResult, type UpstreamCredentials } from '@switchboard/plugin-sdk';
import { isUnauthorized, MAX_UPSTREAM_TOOLS, sdkConnector, type UpstreamTarget } from './upstream-connection';
import { blockedAddressOf } from './upstream-failures';
import { setsAuthorization, upstreamHeadersSchema } from './upstream-headers';
import { Upstreams } from './upstreams';

export { Upstreams, TOOLS_CACHE_TTL_MS, UPSTREAM_IDLE_MS } from './upstreams';
export { UPSTREAM_TIMEOUT_MS, MAX_UPSTREAM_TOOLS } from './upstream-connection';
export { BACKOFF_BASE_MS, BACKOFF_MAX_MS } from './upstream-failures';
export { MAX_UPSTREAM_HEADERS, MAX_UPSTREAM_HEADER_VALUE, MAX_UPSTREAM_HEADERS_TOTAL } from './upstream-headers';

/** A tool a per-user installation lists without asking the upstream (see `declaredTools`). */
const declaredToolSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - only, at most 64'),
  title: z.string().max(200).optional(),
  description: z.string().max(2_000).default(''),
  inputSchema: z
    .looseObject({ type: z.literal('object') })
    .default({ type: 'object' })
    .describe('JSON Schema of the arguments, as the upstream declares it (the upstream validates them)'),
});

const configSchema = z
  .object({
    url: z.string().url().max(2048).refine((u) => /^https?:/i.test(u), 'http or https only').describe('The upstream MCP endpoint'),
    transport: z.enum(['streamable-http', 'sse']).default('streamable-http'),
    bearerToken: secret(z.string().min(1).max(8_192)).optional().describe('Sent as Authorization: Bearer …'),
    headers: secret(upstreamHeadersSchema).optional().describe('Static headers sent on every upstream request (name → value)'),
    auth: z
      .enum(['static', 'oauth'])
      .default('static')
      .describe('static: bearerToken/headers as configured (or none); oauth: the platform is an OAuth client of the upstream and a tenant admin connects an account (docs/upstream-oauth.md)'),
    oauthMode: z
      .enum(['shared', 'per-user'])
      .optional()
      .describe('With auth oauth: shared (default), one account a tenant admin connects for everyone; per-user, each signed-in person connects their own'),
    declaredTools: z
      .array(declaredToolSchema)
      .min(1)
      .max(MAX_UPSTREAM_TOOLS)
      .optional()
      .describe('With oauthMode per-user (required there): the tools listed to every session, since the list cannot come from one person\'s account'),
  })
  .superRefine((config, ctx) => {
    // Two Authorization headers would leave the upstream to guess which one counts.
    if (config.bearerToken !== undefined && setsAuthorization(config.headers)) {
      ctx.addIssue({ code: 'custom', path: ['headers'], message: 'Authorization cannot be set here when bearerToken is set' });
    }
    if (config.auth === 'oauth') {
      // The OAuth access token is the Authorization header: a static one would compete with it.
      if (config.bearerToken !== undefined) ctx.addIssue({ code: 'custom', path: ['bearerToken'], message: 'bearerToken cannot be set with auth oauth: the connected account\'s token is sent' });
      if (setsAuthorization(config.headers)) ctx.addIssue({ code: 'custom', path: ['headers'], message: 'Authorization cannot be set here with auth oauth: the connected account\'s token is sent' });
    } else if (config.oauthMode !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['oauthMode'], message: 'oauthMode applies only with auth oauth' });
    }
    const perUser = config.auth === 'oauth' && config.oauthMode === 'per-user';
    if (perUser && config.declaredTools === undefined) {
      ctx.addIssue({ code: 'custom', path: ['declaredTools'], message: 'required with oauthMode per-user: the tool list every session sees cannot come from one person\'s upstream account' });
    }
    if (!perUser && config.declaredTools !== undefined) ctx.addIssue({ code: 'custom', path: ['declaredTools'], message: 'declaredTools applies only with oauthMode per-user (otherwise the upstream lists its tools)' });
    const names = new Set<string>();
    for (const [i, tool] of (config.declaredTools ?? []).entries()) {
      if (names.has(tool.name)) ctx.addIssue({ code: 'custom', path: ['declaredTools', i, 'name'], message: `tool ${tool.name} is declared twice` });
      names.add(tool.name);
    }
  });
type RemoteConfig = z.output<typeof configSchema>;

async function callUpstream(name: string, args: Record<string, unknown>, ctx: ToolContext<RemoteConfig, Upstreams>): Promise<ToolResult> {
  try {
    return await withUpstreamToken(ctx.config, ctx.upstreamCredentials, (target) =>
      ctx.state.call(ctx.tenant.id, target, name, args, ctx.signal, (progress, total, message) => void ctx.progress(progress, total, message)),
    );
  } catch (error) {
    // The gateway answers it: a URL-mode elicitation where the client declared one, else this message (with the link) as the tool error.
    if (error instanceof UpstreamConnectRequiredError) throw error;
    return { content: [{ type: 'text', text: upstreamErrorMessage(error) }], isError: true };
  }
}

/**
 * Runs one upstream request with the configuration's credentials. With `auth: oauth` the token is
 * the platform's (ctx.upstreamCredentials, refreshed there); a 401 means the upstream no longer
 * takes it (revoked, or expired early): the platform refreshes it once and the request is sent
 * again with the new one, or the platform's reconnect error is the answer. Each token is its own
 * connection (Upstreams keys by the whole target), so a refreshed token never rides an old session.
 */
async function withUpstreamToken<T>(config: RemoteConfig, credentials: UpstreamCredentials | undefined, request: (target: UpstreamTarget) => Promise<T>): Promise<T> {
  const { url, transport, bearerToken, headers } = config;
  if (config.auth !== 'oauth') return request({ url, transport, bearerToken, headers });
  if (!credentials) throw new UpstreamAuthorizationError('this gateway offers no upstream OAuth credentials');
  // Per-user: the accessor's key keeps each person's upstream connections apart (Upstreams keys by the whole target).
  const connectionKey = credentials.connectionKey;
  const token = await credentials.accessToken();
  try {
    return await request({ url, transport, headers, bearerToken: token, connectionKey });
  } catch (error) {
    if (!isUnauthorized(error)) throw error;
    const renewed = await credentials.accessToken({ rejected: token });
    return request({ url, transport, headers, bearerToken: renewed, connectionKey });
  }
}

export default definePlugin({
  name: 'remote-mcp',
  version: '2.3.0',
  description:
    'Federates an upstream MCP server (Streamable HTTP or SSE) with the tenant\'s own bearer token or headers, or an OAuth account (one a tenant admin connects, or each person\'s own): its tools are listed as this plugin\'s.',
  config: configSchema,
  setup: (ctx) => {
    const outbound = ctx.outbound.createFetch();
    return new Upstreams(sdkConnector(outbound), () => outbound.close());
  },
  close: (upstreams) => upstreams.close(),
  tools: [],
  async listTools(ctx): Promise<ListedToolDefinition<RemoteConfig, Upstreams>[]> {
    // Per-user: the declared list, the same for every session; each call then goes out with its caller's own account.
    if (ctx.config.declaredTools) return ctx.config.declaredTools.map((tool) => listedTool(tool));
    let tools;
    try {
      tools = await withUpstreamToken(ctx.config, ctx.upstreamCredentials, (target) => ctx.state.list(ctx.tenant.id, target, ctx.signal, ctx.listChanged));
    } catch (error) {
      throw new Error(upstreamErrorMessage(error));
    }
    return tools.map((tool) => listedTool(tool));
  },
});

function listedTool(tool: {
  name: string;
  title?: string | undefined;
  description?: string | undefined;
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown> | undefined;
  annotations?: ListedToolDefinition['annotations'] | undefined;
}): ListedToolDefinition<RemoteConfig, Upstreams> {
  return {
    name: tool.name,
    ...(tool.title ? { title: tool.title } : {}),
    description: tool.description ?? '',
    inputSchema: tool.inputSchema,
    ...(tool.outputSchema ? { outputSchema: tool.outputSchema } : {}),
    ...(tool.annotations ? { annotations: tool.annotations } : {}),
    handler: (args, toolCtx) => callUpstream(tool.name, args, toolCtx),
  };
}

/** Connection refusals, HTTP errors, timeouts, backoff and JSON-RPC errors of the upstream, as a tool error says them. */
function upstreamErrorMessage(error: unknown): string {
  // Already says what happened and how to reconnect.
  if (error instanceof UpstreamAuthorizationError) return error.message;
  const blocked = blockedAddressOf(error);
  return blocked ? blocked.message : `Upstream MCP server error: ${error instanceof Error ? error.message : String(error)}`;
}
