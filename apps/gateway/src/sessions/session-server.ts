import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  CreateMessageResultSchema,
  ElicitResultSchema,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type CallToolResult,
  type GetPromptResult,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Logger } from '@switchboard/logger';
import {
  ClientCapabilityError,
  LOG_LEVELS,
  PluginNotFoundError,
  type LogLevel,
  type PluginContext,
  type ToolContext,
  type ToolReturn,
} from '@switchboard/plugin-sdk';
import { approximateJsonBytes } from '../protocol/json-size';
import type { FinishedToolCall, ToolCalls } from './tool-calls';
import type { McpSession } from './mcp-session';
import type { ActivePlugin, PluginConfig } from '../catalog/session-catalog';
import { CallCancelledByShutdownError, HandlerTimeoutError, runAbortable } from './tool-timeout';

/** MCP's "resource not found" (specification, server/resources#error-handling). */
export const RESOURCE_NOT_FOUND = -32002;
/** Completion responses carry at most 100 values (specification, utilities/completion). */
export const MAX_COMPLETION_VALUES = 100;

export const GATEWAY_SERVER_INFO = { name: 'switchboard', version: '0.1.0' };

const SERVER_CAPABILITIES = {
  tools: { listChanged: true },
  resources: { subscribe: true, listChanged: true },
  prompts: { listChanged: true },
  logging: {},
  completions: {},
};

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export interface SessionServerDeps {
  defaultTimeoutMs: number;
  logger: Logger;
  /** Limits before each tool call, usage event and metrics after it. */
  toolCalls: ToolCalls;
}

const LEVEL_RANK = new Map<LogLevel, number>(LOG_LEVELS.map((level, rank) => [level, rank]));

/**
 * The MCP SDK's low-level Server for one session, its handlers reading the session's catalog.
 * The low-level Server (rather than McpServer) keeps per-session memory to the handler table.
 */
export function createSessionServer(session: McpSession, deps: SessionServerDeps): Server {
  const server = new Server(GATEWAY_SERVER_INFO, { capabilities: SERVER_CAPABILITIES });

  server.setRequestHandler(ListToolsRequestSchema, () => session.catalog.toolList);
  server.setRequestHandler(CallToolRequestSchema, (request, extra) => callTool(session, server, deps, request.params, extra));
  server.setRequestHandler(ListPromptsRequestSchema, () => session.catalog.promptList);
  server.setRequestHandler(GetPromptRequestSchema, async (request, extra) => {
    const entry = session.catalog.prompts.get(request.params.name);
    if (!entry) throw new McpError(ErrorCode.InvalidParams, `Unknown prompt: ${request.params.name}`);
    const schema = entry.prompt.arguments ?? z.object({});
    const args = schema.safeParse(request.params.arguments ?? {});
    if (!args.success) throw new McpError(ErrorCode.InvalidParams, `Invalid arguments for prompt ${request.params.name}: ${z.prettifyError(args.error)}`);
    const result = await runPluginCall(session, deps, entry.plugin, extra, (ctx) => entry.prompt.get(args.data, ctx));
    return result as GetPromptResult;
  });
  server.setRequestHandler(ListResourcesRequestSchema, () => session.catalog.resourceList);
  server.setRequestHandler(ListResourceTemplatesRequestSchema, () => session.catalog.templateList);
  server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) => {
    const { uri } = request.params;
    const direct = session.catalog.resources.get(uri);
    if (direct) {
      return { contents: await runPluginCall(session, deps, direct.plugin, extra, (ctx) => direct.resource.read(ctx)) };
    }
    for (const entry of session.catalog.templates) {
      const variables = entry.matcher.match(uri);
      if (!variables) continue;
      const flat = Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v]));
      return { contents: await runPluginCall(session, deps, entry.plugin, extra, (ctx) => entry.template.read(uri, flat, ctx)) };
    }
    throw new McpError(RESOURCE_NOT_FOUND, `Resource not found: ${uri}`, { uri });
  });
  server.setRequestHandler(SubscribeRequestSchema, (request) => {
    (session.subscriptions ??= new Set()).add(request.params.uri);
    return {};
  });
  server.setRequestHandler(UnsubscribeRequestSchema, (request) => {
    session.subscriptions?.delete(request.params.uri);
    return {};
  });
  server.setRequestHandler(SetLevelRequestSchema, (request) => {
    session.logLevel = request.params.level;
    return {};
  });
  server.setRequestHandler(CompleteRequestSchema, async (request, extra) => {
    const { ref, argument, context } = request.params;
    const completers =
      ref.type === 'ref/prompt'
        ? { owner: session.catalog.prompts.get(ref.name), map: session.catalog.prompts.get(ref.name)?.prompt.complete }
        : (() => {
            const entry = session.catalog.templates.find((t) => t.template.uriTemplate === ref.uri);
            return { owner: entry, map: entry?.template.complete };
          })();
    const completer = completers.map?.[argument.name];
    if (!completers.owner || !completer) return { completion: { values: [] } };
    const values = await runPluginCall(session, deps, completers.owner.plugin, extra, (ctx) =>
      completer(argument.value, { ...ctx, arguments: context?.arguments ?? {} }),
    );
    return { completion: { values: values.slice(0, MAX_COMPLETION_VALUES), total: values.length, hasMore: values.length > MAX_COMPLETION_VALUES } };
  });

  server.onerror = (error) => deps.logger.debug({ sessionId: session.id, err: error }, 'MCP protocol error');
  return server;
}

async function callTool(
  session: McpSession,
  server: Server,
  deps: SessionServerDeps,
  params: { name: string; arguments?: Record<string, unknown> },
  extra: Extra,
): Promise<CallToolResult> {
  // Taken first, so the entry goes whatever happens next. Without one (the endpoint did not note
  // this request), an estimate of the params.
  const bytesIn = session.takeRequestBytes(extra.requestId) ?? approximateJsonBytes(params);
  const entry = session.catalog.tools.get(params.name);
  if (!entry) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${params.name}`);
  const args = entry.tool.input.safeParse(params.arguments ?? {});
  if (!args.success) {
    throw new McpError(ErrorCode.InvalidParams, `Invalid arguments for tool ${params.name}: ${z.prettifyError(args.error)}`);
  }
  // Checked here, where the tool runs: a call forwarded from another node is limited and metered once.
  const plugin = entry.plugin.descriptor.name;
  const tool = entry.tool.name;
  const release = await deps.toolCalls.admit(session.binding, plugin, tool);
  const startedAt = performance.now();
  let result: CallToolResult | undefined;
  let outcome: FinishedToolCall['outcome'] = 'error';
  try {
    result = toCallToolResult(
      await runAbortable(
        (signal) => entry.tool.handler(args.data, toolContext(session, server, entry.plugin, deps, extra, signal)),
        extra.signal,
        session,
        entry.plugin.descriptor.timeoutMs ?? deps.defaultTimeoutMs,
      ),
    );
    outcome = result.isError ? 'error' : 'ok';
    return result;
  } catch (error) {
    // Shutdown: a JSON-RPC error rather than a result, so the client knows the call may not have run.
    if (error instanceof CallCancelledByShutdownError) throw error;
    if (error instanceof HandlerTimeoutError) {
      outcome = 'timeout';
      result = errorResult(`Tool ${params.name} ${error.message} and was aborted`);
      return result;
    }
    deps.logger.debug({ sessionId: session.id, tool: params.name, err: error }, 'tool handler failed');
    result = errorResult(messageOf(error));
    return result;
  } finally {
    void release();
    // Every call that ran is accounted, however it ended; sizes are measured, never re-serialised.
    try {
      deps.toolCalls.finished(session.binding, {
        plugin,
        tool,
        outcome,
        durationMs: performance.now() - startedAt,
        bytesIn,
        bytesOut: result === undefined ? 0 : approximateJsonBytes(result),
      });
    } catch (error) {
      deps.logger.warn({ sessionId: session.id, tool: params.name, err: error }, 'could not account a tool call');
    }
  }
}

function messageOf(error: unknown): string {
  try {
    return error instanceof Error ? error.message : String(error);
  } catch {
    return 'the tool failed';
  }
}

/** Runs a prompt, resource or completion handler with the plugin's timeout and context. */
async function runPluginCall<T>(
  session: McpSession,
  deps: SessionServerDeps,
  plugin: ActivePlugin,
  extra: Extra,
  work: (ctx: PluginContext<PluginConfig>) => T | Promise<T>,
): Promise<T> {
  try {
    return await runAbortable(
      (signal) => work(pluginContext(session, plugin, deps, signal)),
      extra.signal,
      session,
      plugin.descriptor.timeoutMs ?? deps.defaultTimeoutMs,
    );
  } catch (error) {
    if (error instanceof McpError || error instanceof CallCancelledByShutdownError) throw error;
    if (error instanceof PluginNotFoundError) throw new McpError(RESOURCE_NOT_FOUND, error.message);
    throw new McpError(ErrorCode.InternalError, messageOf(error));
  }
}

function pluginContext(session: McpSession, plugin: ActivePlugin, deps: SessionServerDeps, signal: AbortSignal): PluginContext<PluginConfig> {
  return {
    tenant: { id: session.binding.tenantId, slug: session.tenantSlug },
    config: plugin.config,
    logger: pluginLogger(deps.logger, plugin.descriptor.name, session),
    signal,
    session: { id: session.id, closed: session.signal },
    storage: plugin.storage,
    state: plugin.state,
  };
}

function toolContext(
  session: McpSession,
  server: Server,
  plugin: ActivePlugin,
  deps: SessionServerDeps,
  extra: Extra,
  signal: AbortSignal,
): ToolContext<PluginConfig> {
  const capabilities = server.getClientCapabilities();
  const progressToken = extra._meta?.progressToken;
  return {
    ...pluginContext(session, plugin, deps, signal),
    client: { sampling: Boolean(capabilities?.sampling), elicitation: Boolean(capabilities?.elicitation) },
    async progress(progress, total, message) {
      if (progressToken === undefined) return;
      await extra.sendNotification({
        method: 'notifications/progress',
        params: { progressToken, progress, ...(total !== undefined ? { total } : {}), ...(message ? { message } : {}) },
      });
    },
    async log(level, data) {
      const threshold = session.logLevel;
      if (threshold !== undefined && LEVEL_RANK.get(level)! < LEVEL_RANK.get(threshold)!) return;
      await extra.sendNotification({ method: 'notifications/message', params: { level, logger: plugin.descriptor.name, data } });
    },
    async sample(request) {
      if (!capabilities?.sampling) throw new ClientCapabilityError('sampling');
      return (await extra.sendRequest({ method: 'sampling/createMessage', params: request }, CreateMessageResultSchema, { signal })) as never;
    },
    async elicit(request) {
      if (!capabilities?.elicitation) throw new ClientCapabilityError('elicitation');
      return (await extra.sendRequest({ method: 'elicitation/create', params: request as never }, ElicitResultSchema, { signal })) as never;
    },
    async resourceUpdated(uri) {
      if (!session.subscriptions?.has(uri)) return;
      await extra.sendNotification({ method: 'notifications/resources/updated', params: { uri } });
    },
  };
}

function pluginLogger(logger: Logger, plugin: string, session: McpSession): PluginContext<PluginConfig>['logger'] {
  const bound = { plugin, tenant: session.tenantSlug, sessionId: session.id };
  return {
    debug: (message, data) => logger.debug({ ...bound, ...data }, message),
    info: (message, data) => logger.info({ ...bound, ...data }, message),
    warn: (message, data) => logger.warn({ ...bound, ...data }, message),
    error: (message, data) => logger.error({ ...bound, ...data }, message),
  };
}

function toCallToolResult(result: ToolReturn): CallToolResult {
  if (typeof result === 'string') return { content: [{ type: 'text', text: result }] };
  return result as CallToolResult;
}

function errorResult(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}
