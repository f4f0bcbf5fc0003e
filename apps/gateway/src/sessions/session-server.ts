import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  CreateMessageResultSchema,
  ElicitResultSchema,
  GetPromptRequestSchema,
  ListRootsResultSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import type { InputRequest } from '@switchboard/plugin-sdk';
import { LazySchemaValidator } from './lazy-schema-validator';
import type { McpSession } from './mcp-session';
import { callTool, complete, getPrompt, meetsLogLevel, readResource, type ClientChannel, type PluginCallDeps } from './plugin-calls';

export { MAX_COMPLETION_VALUES, RESOURCE_NOT_FOUND } from './plugin-calls';

export const GATEWAY_SERVER_INFO = { name: 'switchboard', version: '0.1.0' };

const SERVER_CAPABILITIES = {
  tools: { listChanged: true },
  resources: { subscribe: true, listChanged: true },
  prompts: { listChanged: true },
  logging: {},
  completions: {},
};

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export type SessionServerDeps = PluginCallDeps;

/**
 * The MCP SDK's low-level Server for one session, its handlers reading the session's catalog.
 * The low-level Server (rather than McpServer) keeps per-session memory to the handler table.
 */
export function createSessionServer(session: McpSession, deps: SessionServerDeps): Server {
  const server = new Server(GATEWAY_SERVER_INFO, { capabilities: SERVER_CAPABILITIES, jsonSchemaValidator: new LazySchemaValidator() });

  server.setRequestHandler(ListToolsRequestSchema, () => session.catalog.toolList);
  server.setRequestHandler(CallToolRequestSchema, (request, extra) => {
    // Taken first, so the entry goes whatever happens next. Without one (the endpoint did not note
    // this request), an estimate of the params.
    const bytesIn = session.takeRequestBytes(extra.requestId);
    return callTool(session, session.catalog, sessionChannel(session, server, extra), deps, request.params, {
      signal: extra.signal,
      ...(bytesIn !== undefined ? { bytesIn } : {}),
    });
  });
  server.setRequestHandler(ListPromptsRequestSchema, () => session.catalog.promptList);
  server.setRequestHandler(GetPromptRequestSchema, (request, extra) =>
    getPrompt(session, session.catalog, sessionChannel(session, server, extra), deps, request.params, extra),
  );
  server.setRequestHandler(ListResourcesRequestSchema, () => session.catalog.resourceList);
  server.setRequestHandler(ListResourceTemplatesRequestSchema, () => session.catalog.templateList);
  server.setRequestHandler(ReadResourceRequestSchema, (request, extra) =>
    readResource(session, session.catalog, sessionChannel(session, server, extra), deps, request.params.uri, extra),
  );
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
  server.setRequestHandler(CompleteRequestSchema, (request, extra) => complete(session, session.catalog, deps, request.params, extra));

  server.onerror = (error) => deps.logger.debug({ sessionId: session.id, err: error }, 'MCP protocol error');
  return server;
}

/** The session's client: notifications and server-to-client requests on the session's streams. */
function sessionChannel(session: McpSession, server: Server, extra: Extra): ClientChannel {
  const capabilities = server.getClientCapabilities();
  const progressToken = extra._meta?.progressToken;
  return {
    client: { sampling: Boolean(capabilities?.sampling), elicitation: Boolean(capabilities?.elicitation), roots: Boolean(capabilities?.roots) },
    undeclaredCapability: 'result',
    urlElicitation: capabilities?.elicitation?.url !== undefined,
    async progress(progress, total, message) {
      if (progressToken === undefined) return;
      await extra.sendNotification({
        method: 'notifications/progress',
        params: { progressToken, progress, ...(total !== undefined ? { total } : {}), ...(message ? { message } : {}) },
      });
    },
    async log(plugin, level, data) {
      const threshold = session.logLevel;
      if (threshold !== undefined && !meetsLogLevel(level, threshold)) return;
      await extra.sendNotification({ method: 'notifications/message', params: { level, logger: plugin, data } });
    },
    async ask(requests, signal) {
      // A real request on the session for each ask, all at once, related to the request being handled.
      const answers = await Promise.all(Object.entries(requests).map(async ([key, request]) => [key, await sessionRequest(extra, request, signal)] as const));
      return Object.fromEntries(answers);
    },
    async resourceUpdated(uri) {
      if (!session.subscriptions?.has(uri)) return;
      await extra.sendNotification({ method: 'notifications/resources/updated', params: { uri } });
    },
  };
}

function sessionRequest(extra: Extra, request: InputRequest, signal: AbortSignal): Promise<unknown> {
  switch (request.method) {
    case 'sampling/createMessage':
      return extra.sendRequest({ method: request.method, params: request.params }, CreateMessageResultSchema, { signal });
    case 'elicitation/create':
      return extra.sendRequest({ method: request.method, params: request.params as never }, ElicitResultSchema, { signal });
    case 'roots/list':
      return extra.sendRequest({ method: request.method }, ListRootsResultSchema, { signal });
  }
}
