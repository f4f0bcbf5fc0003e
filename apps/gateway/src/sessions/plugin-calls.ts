import { ErrorCode, McpError, UrlElicitationRequiredError, type CallToolResult, type GetPromptResult, type ReadResourceResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { PluginAnnouncement } from '@switchboard/coordination';
import type { Logger } from '@switchboard/logger';
import {
  ClientCapabilityError,
  LOG_LEVELS,
  PluginNotFoundError,
  UpstreamConnectRequiredError,
  type ClientCapability,
  type ClientInput,
  type InputRequest,
  type InteractiveContext,
  type LogLevel,
  type PluginContext,
  type ToolContext,
  type ToolReturn,
} from '@switchboard/plugin-sdk';
import type { CredentialBinding } from '../auth/credential-binding';
import type { ActivePlugin, PluginConfig, SessionCatalog } from '../catalog/session-catalog';
import { JSON_RPC_MISSING_CLIENT_CAPABILITY } from '../protocol/modern-wire';
import { approximateJsonBytes } from '../protocol/json-size';
import type { FinishedToolCall, ToolCalls } from './tool-calls';
import { extractTraceContext, SpanStatusCode, type Span, type Tracing } from '@switchboard/tracing';
import { CallCancelledByShutdownError, HandlerTimeoutError, runAbortable, type AbortScope } from './tool-timeout';

// The catalog's handlers as both eras run them: a 2025 session (session-server.ts) and a
// stateless 2026-07-28 request (stateless-server.ts) call tools, prompts, resources and
// completions through these functions, so limits, metering, timeouts and the plugin context
// are one implementation.

/** MCP's "resource not found" up to 2025-11-25 (server/resources#error-handling); 2026-07-28 answers -32602. */
export const RESOURCE_NOT_FOUND = -32002;
/** Completion responses carry at most 100 values (specification, utilities/completion). */
export const MAX_COMPLETION_VALUES = 100;

const LEVEL_RANK = new Map<LogLevel, number>(LOG_LEVELS.map((level, rank) => [level, rank]));

/** Whether a plugin's log at `level` reaches a client that asked for `threshold` and above (server/utilities/logging). */
export function meetsLogLevel(level: LogLevel, threshold: LogLevel): boolean {
  return LEVEL_RANK.get(level)! >= LEVEL_RANK.get(threshold)!;
}

export interface PluginCallDeps {
  defaultTimeoutMs: number;
  logger: Logger;
  /** Limits before each tool call, usage event and metrics after it. */
  toolCalls: ToolCalls;
  /** Publishes a plugin's list change or resource update once, for every node's clients; without it nobody else hears. */
  announce?: (announcement: PluginAnnouncement) => Promise<void>;
  /** OpenTelemetry: a span per tool call, active while its handler runs (outbound requests carry it). */
  tracing?: Tracing;
}

/**
 * Where a plugin call runs: whose it is, and what ends it besides its own request. A 2025
 * session is one; a stateless request builds one for itself. `id` and `signal` are the plugin
 * context's `session` (per-session state is keyed by it and released when it aborts).
 */
export interface CallSite extends AbortScope {
  readonly id: string;
  readonly binding: CredentialBinding;
  readonly tenantSlug: string;
  /**
   * The plugin context's `session` when it is not the site itself: a stateless request has no
   * session, so per-session plugin state (an isolated hosted server) is kept per principal.
   */
  readonly pluginSession?: { id: string; closed: AbortSignal };
}

/** How a call reaches its client: what differs between a 2025 session and a stateless request. */
export interface ClientChannel {
  /** What the client declared it can do. */
  readonly client: Record<ClientCapability, boolean>;
  /**
   * A plugin's ClientCapabilityError: an error result (2025, as before), or the JSON-RPC
   * MissingRequiredClientCapability error (2026-07-28 basic/index: the server MUST return -32021).
   */
  readonly undeclaredCapability: 'result' | 'json-rpc';
  /** The client declared URL-mode elicitation (`elicitation.url`, 2025-11-25): a person's connect link goes as -32042 rather than a tool error. */
  readonly urlElicitation?: boolean;
  progress(progress: number, total: number | undefined, message: string | undefined): Promise<void>;
  log(plugin: string, level: LogLevel, data: unknown): Promise<void>;
  /** Asks the client (its capabilities already checked); resolves with the answers by key. */
  ask(requests: Record<string, InputRequest>, signal: AbortSignal): Promise<Record<string, unknown>>;
  /**
   * Set when the call must end otherwise than its handler says: the stateless wire's "the client
   * must answer first", or an answer that does not fit its question. Checked after the handler
   * settles, so a handler that catches the ask's error cannot swallow it.
   */
  interruption?(): Error | undefined;
  resourceUpdated(uri: string): Promise<void>;
}

/** The capability each kind of ask needs (basic/index: never ask what the client did not declare). */
const CAPABILITY_OF: Record<InputRequest['method'], ClientCapability> = {
  'elicitation/create': 'elicitation',
  'sampling/createMessage': 'sampling',
  'roots/list': 'roots',
};

/** One request's part in a call: its abort (client cancel or disconnect) and its size as read. */
export interface CallRequest {
  signal: AbortSignal;
  /** UTF-8 bytes of the request as read; undefined = estimated from the params. */
  bytesIn?: number;
}

/** `tools/call`: validated, limited, timed, metered; handler failures become error results. */
export async function callTool(
  site: CallSite,
  catalog: SessionCatalog,
  channel: ClientChannel,
  deps: PluginCallDeps,
  params: { name: string; arguments?: Record<string, unknown>; _meta?: unknown },
  request: CallRequest,
): Promise<CallToolResult> {
  const bytesIn = request.bytesIn ?? approximateJsonBytes(params);
  const entry = catalog.tools.get(params.name);
  if (!entry) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${params.name}`);
  const args = entry.tool.input.safeParse(params.arguments ?? {});
  if (!args.success) {
    throw new McpError(ErrorCode.InvalidParams, `Invalid arguments for tool ${params.name}: ${z.prettifyError(args.error)}`);
  }
  // Checked here, where the tool runs: a call forwarded from another node is limited and metered once.
  // Limits, usage rows and spans name the installation (`github`), not its plugin (`remote-mcp`).
  const plugin = entry.plugin.name;
  const tool = entry.tool.name;
  const tracing = deps.tracing;
  const span = tracing?.enabled ? toolSpan(tracing, plugin, params) : undefined;
  const release = await deps.toolCalls.admit(site.binding, plugin, tool);
  const startedAt = performance.now();
  let result: CallToolResult | undefined;
  let outcome: FinishedToolCall['outcome'] = 'error';
  try {
    const run = () =>
      runAbortable(
        (signal) => entry.tool.handler(args.data, toolContext(site, channel, entry.plugin, deps, signal)),
        request.signal,
        site,
        entry.plugin.descriptor.timeoutMs ?? deps.defaultTimeoutMs,
      );
    const returned = span && tracing ? await tracing.runIn(span, run) : await run();
    const interruption = channel.interruption?.();
    if (interruption) throw interruption;
    result = toCallToolResult(returned);
    outcome = result.isError ? 'error' : 'ok';
    return result;
  } catch (error) {
    const interruption = channel.interruption?.();
    if (interruption) {
      // The handler ran and stopped at an ask: a round of the call, not a failure of it.
      if (!(interruption instanceof McpError)) outcome = 'input_required';
      throw interruption;
    }
    // Shutdown: a JSON-RPC error rather than a result, so the client knows the call may not have run.
    if (error instanceof CallCancelledByShutdownError) throw error;
    if (error instanceof HandlerTimeoutError) {
      outcome = 'timeout';
      result = errorResult(`Tool ${params.name} ${error.message} and was aborted`);
      return result;
    }
    if (error instanceof ClientCapabilityError && channel.undeclaredCapability === 'json-rpc') throw missingCapability(error);
    // 2025-11-25 client/elicitation: URLElicitationRequiredError only when a URL-mode elicitation is required and the client supports it.
    if (error instanceof UpstreamConnectRequiredError && channel.urlElicitation) {
      throw new UrlElicitationRequiredError([{ mode: 'url', elicitationId: error.elicitationId, url: error.connectUrl, message: error.message }], error.message);
    }
    deps.logger.debug({ sessionId: site.id, tool: params.name, err: error }, 'tool handler failed');
    result = errorResult(messageOf(error));
    return result;
  } finally {
    void release();
    if (span) {
      span.setAttribute('switchboard.outcome', outcome);
      if (outcome !== 'ok' && outcome !== 'input_required') span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
    // Every call that ran is accounted, however it ended; sizes are measured, never re-serialised.
    try {
      deps.toolCalls.finished(site.binding, {
        plugin,
        tool,
        outcome,
        durationMs: performance.now() - startedAt,
        bytesIn,
        bytesOut: result === undefined ? 0 : approximateJsonBytes(result),
      });
    } catch (error) {
      deps.logger.warn({ sessionId: site.id, tool: params.name, err: error }, 'could not account a tool call');
    }
  }
}

/**
 * The tool call's span. A `traceparent` in the request's `_meta` (the MCP 2026-07-28 way to carry
 * trace context, as a message may reach us without its own HTTP request) is its parent, linked
 * to the HTTP request's span; else the request's span is.
 */
function toolSpan(tracing: Tracing, plugin: string, params: { name: string; _meta?: unknown }): Span | undefined {
  const fromMeta = extractTraceContext(params._meta);
  const requestSpan = fromMeta && tracing.activeSpanContext();
  return tracing.startSpan(`tools/call ${params.name}`, {
    attributes: { 'switchboard.plugin': plugin, 'mcp.tool.name': params.name },
    ...(fromMeta ? { parent: fromMeta } : {}),
    ...(requestSpan ? { links: [{ context: requestSpan }] } : {}),
  });
}

/** `prompts/get`: unknown prompt or invalid arguments are invalid params. */
export async function getPrompt(
  site: CallSite,
  catalog: SessionCatalog,
  channel: ClientChannel,
  deps: PluginCallDeps,
  params: { name: string; arguments?: Record<string, unknown> },
  request: CallRequest,
): Promise<GetPromptResult> {
  const entry = catalog.prompts.get(params.name);
  if (!entry) throw new McpError(ErrorCode.InvalidParams, `Unknown prompt: ${params.name}`);
  const schema = entry.prompt.arguments ?? z.object({});
  const args = schema.safeParse(params.arguments ?? {});
  if (!args.success) throw new McpError(ErrorCode.InvalidParams, `Invalid arguments for prompt ${params.name}: ${z.prettifyError(args.error)}`);
  const result = await runPluginCall(site, deps, entry.plugin, request.signal, (ctx) => entry.prompt.get(args.data, interactive(ctx, channel)), channel);
  return result as GetPromptResult;
}

/** `resources/read`: a direct resource, else the first template that matches; RESOURCE_NOT_FOUND otherwise. */
export async function readResource(
  site: CallSite,
  catalog: SessionCatalog,
  channel: ClientChannel,
  deps: PluginCallDeps,
  uri: string,
  request: CallRequest,
): Promise<ReadResourceResult> {
  const direct = catalog.resources.get(uri);
  if (direct) {
    return { contents: await runPluginCall(site, deps, direct.plugin, request.signal, (ctx) => direct.resource.read(interactive(ctx, channel)), channel) } as ReadResourceResult;
  }
  for (const entry of catalog.templates) {
    const variables = entry.matcher.match(uri);
    if (!variables) continue;
    const flat = Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v]));
    return {
      contents: await runPluginCall(site, deps, entry.plugin, request.signal, (ctx) => entry.template.read(uri, flat, interactive(ctx, channel)), channel),
    } as ReadResourceResult;
  }
  throw new McpError(RESOURCE_NOT_FOUND, `Resource not found: ${uri}`, { uri });
}

export interface CompleteParams {
  ref: { type: string; name?: string; uri?: string };
  argument: { name: string; value: string };
  context?: { arguments?: Record<string, string> };
}

/** `completion/complete` for a prompt's or a template's argument; no completer → no values. */
export async function complete(
  site: CallSite,
  catalog: SessionCatalog,
  deps: PluginCallDeps,
  params: CompleteParams,
  request: CallRequest,
): Promise<{ completion: { values: string[]; total?: number; hasMore?: boolean } }> {
  const { ref, argument, context } = params;
  const completers =
    ref.type === 'ref/prompt'
      ? { owner: catalog.prompts.get(ref.name ?? ''), map: catalog.prompts.get(ref.name ?? '')?.prompt.complete }
      : (() => {
          const entry = catalog.templates.find((t) => t.template.uriTemplate === ref.uri);
          return { owner: entry, map: entry?.template.complete };
        })();
  const completer = completers.map?.[argument.name];
  if (!completers.owner || !completer) return { completion: { values: [] } };
  const values = await runPluginCall(site, deps, completers.owner.plugin, request.signal, (ctx) =>
    completer(argument.value, { ...ctx, arguments: context?.arguments ?? {} }),
  );
  return { completion: { values: values.slice(0, MAX_COMPLETION_VALUES), total: values.length, hasMore: values.length > MAX_COMPLETION_VALUES } };
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
  site: CallSite,
  deps: PluginCallDeps,
  plugin: ActivePlugin,
  requestSignal: AbortSignal,
  work: (ctx: PluginContext<PluginConfig>) => T | Promise<T>,
  channel?: ClientChannel,
): Promise<T> {
  try {
    const result = await runAbortable((signal) => work(pluginContext(site, plugin, deps, signal)), requestSignal, site, plugin.descriptor.timeoutMs ?? deps.defaultTimeoutMs);
    const interruption = channel?.interruption?.();
    if (interruption) throw interruption;
    return result;
  } catch (error) {
    const interruption = channel?.interruption?.();
    if (interruption) throw interruption;
    if (error instanceof McpError || error instanceof CallCancelledByShutdownError) throw error;
    if (error instanceof ClientCapabilityError) throw missingCapability(error);
    if (error instanceof PluginNotFoundError) throw new McpError(RESOURCE_NOT_FOUND, error.message);
    throw new McpError(ErrorCode.InternalError, messageOf(error));
  }
}

function pluginContext(site: CallSite, plugin: ActivePlugin, deps: PluginCallDeps, signal: AbortSignal): PluginContext<PluginConfig> {
  // Per-user: bound here to the principal the call authenticated as, never to plugin input.
  const upstreamCredentials = plugin.upstreamCredentialsFor?.(site.binding) ?? plugin.upstreamCredentials;
  return {
    tenant: { id: site.binding.tenantId, slug: site.tenantSlug },
    config: plugin.config,
    logger: pluginLogger(deps.logger, plugin.name, site),
    signal,
    session: site.pluginSession ?? { id: site.id, closed: site.signal },
    storage: plugin.storage,
    state: plugin.state,
    ...(upstreamCredentials ? { upstreamCredentials } : {}),
  };
}

function toolContext(site: CallSite, channel: ClientChannel, plugin: ActivePlugin, deps: PluginCallDeps, signal: AbortSignal): ToolContext<PluginConfig> {
  return {
    ...interactive(pluginContext(site, plugin, deps, signal), channel),
    progress: (progress, total, message) => channel.progress(progress, total, message),
    log: (level, data) => channel.log(plugin.name, level, data),
    resourceUpdated: async (uri) => {
      await channel.resourceUpdated(uri);
      await deps.announce?.({ type: 'resource.updated', tenantId: site.binding.tenantId, plugin: plugin.name, uri });
    },
    listChanged: async (list) => deps.announce?.({ type: 'list.changed', tenantId: site.binding.tenantId, plugin: plugin.name, list }),
  };
}

/** A handler's context with what it may ask its client, over the call's channel (either era). */
function interactive(ctx: PluginContext<PluginConfig>, channel: ClientChannel): InteractiveContext<PluginConfig> {
  return { ...ctx, ...clientInput(channel, ctx.signal) };
}

function clientInput(channel: ClientChannel, signal: AbortSignal): ClientInput {
  const ask: ClientInput['ask'] = async (requests) => {
    for (const request of Object.values(requests)) {
      const capability = CAPABILITY_OF[request.method];
      if (capability === undefined) throw new TypeError(`cannot ask a client for ${String(request.method)}`);
      if (!channel.client[capability]) throw new ClientCapabilityError(capability);
    }
    return (await channel.ask(requests, signal)) as never;
  };
  return {
    client: { ...channel.client },
    ask,
    sample: async (params) => (await ask({ sampling: { method: 'sampling/createMessage', params } })).sampling,
    elicit: async (params) => (await ask({ elicitation: { method: 'elicitation/create', params } })).elicitation,
    listRoots: async () => (await ask({ roots: { method: 'roots/list' } })).roots,
  };
}

/** basic/index 2026-07-28: -32021 with the missing capability; used for prompts and reads in both eras. */
function missingCapability(error: ClientCapabilityError): McpError {
  return new McpError(JSON_RPC_MISSING_CLIENT_CAPABILITY, error.message, { requiredCapabilities: { [error.capability]: {} } });
}

function pluginLogger(logger: Logger, plugin: string, site: CallSite): PluginContext<PluginConfig>['logger'] {
  const bound = { plugin, tenant: site.tenantSlug, sessionId: site.id };
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
