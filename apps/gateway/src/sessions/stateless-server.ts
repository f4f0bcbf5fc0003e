import { randomUUID } from 'node:crypto';
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  ErrorCode,
  GetPromptRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  type ProgressToken,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import type { Principal } from '@switchboard/api-keys';
import { bindingOf } from '../auth/credential-binding';
import { digestOf, RequestStateTooLargeError, type RequestStateBinding, type RequestStateCodec } from '../auth/request-state';
import type { SessionCatalog } from '../catalog/session-catalog';
import {
  JSON_RPC_METHOD_NOT_FOUND,
  JSON_RPC_MISSING_CLIENT_CAPABILITY,
  META_SERVER_INFO,
  MODERN_PROTOCOL_VERSIONS,
  type ModernMessage,
} from '../protocol/modern-wire';
import { JSON_RPC_INTERNAL_ERROR, JSON_RPC_INVALID_PARAMS } from '../protocol/jsonrpc-errors';
import { catalogScopeOf, type CatalogScope, type TenantPluginsService } from '../tenants/tenant-plugins';
import {
  callTool,
  complete,
  getPrompt,
  meetsLogLevel,
  readResource,
  RESOURCE_NOT_FOUND,
  type CallSite,
  type ClientChannel,
  type PluginCallDeps,
} from './plugin-calls';
import { GATEWAY_SERVER_INFO } from './session-server';
import { CallCancelledByShutdownError } from './tool-timeout';
import { InputRequiredSignal, InputRounds, InvalidInputResponseError, TooManyInputRoundsError, type InputRoundsState } from './input-rounds';

/**
 * caching.mdx: cacheable results MUST carry hints. Every list here depends on the tenant and the
 * key's grant, and changes when an admin enables a plugin: private, and not to be kept.
 */
const CACHE_HINTS = { ttlMs: 0, cacheScope: 'private' } as const;

/** One modern request, as the endpoint admitted it. */
export interface StatelessRequest {
  message: ModernMessage & { id: RequestId };
  principal: Principal;
  tenantSlug: string;
  /** The plugin the endpoint addresses (`/t/{tenant}/p/{plugin}/mcp`). */
  plugin: string | undefined;
  /** The virtual server the endpoint addresses (`/t/{tenant}/v/{name}/mcp`). */
  virtual?: string | undefined;
  /** Aborted when the client goes away: the request's cancellation (2026-07-28 cancellation.mdx). */
  signal: AbortSignal;
  /** UTF-8 bytes of the request as read (metering's bytes in). */
  bytesIn: number;
  /**
   * Where the request's own notifications go before its answer (the endpoint then answers with
   * an event stream). Without it none are sent.
   */
  notify?: (notification: StatelessNotification) => void;
}

/** A notification for the request being answered: the only kind its response stream may carry. */
export interface StatelessNotification {
  method: 'notifications/progress' | 'notifications/message';
  params: Record<string, unknown>;
}

/** A JSON-RPC response and the HTTP status it travels with. */
export interface StatelessAnswer {
  status: number;
  body: { jsonrpc: '2.0'; id: RequestId } & ({ result: Record<string, unknown> } | { error: { code: number; message: string; data?: unknown } });
}

/** A stateless request's call site, with the one channel its handler talks to the client through. */
interface StatelessSite extends CallSite {
  readonly channel: ClientChannel;
}

type WireError = { code: number; message: string; data?: unknown };

type Handler = (request: StatelessRequest, site: StatelessSite, catalog: SessionCatalog) => Promise<Record<string, unknown>>;

/** The methods that may answer with an InputRequiredResult (basic/patterns/mrtr), and what each one's state is bound to. */
const INPUT_METHODS: Readonly<Record<string, (params: Record<string, unknown>) => { target: unknown; arguments: unknown }>> = {
  'tools/call': (params) => ({ target: params['name'], arguments: params['arguments'] ?? {} }),
  'prompts/get': (params) => ({ target: params['name'], arguments: params['arguments'] ?? {} }),
  'resources/read': (params) => ({ target: params['uri'], arguments: {} }),
};

/**
 * MCP 2026-07-28 served statelessly: each request stands alone, on whichever node it lands,
 * against the principal's catalog, through the same plugin calls as a 2025 session
 * (plugin-calls.ts). A tool's progress (with the request's progressToken) and its logs (with
 * the request's logLevel) go to `request.notify` while the request runs, and never after.
 */
export class StatelessServer {
  /** Aborts of running handlers, for the shutdown's grace deadline (as `McpSession.abortCalls`). */
  private readonly running = new Set<(reason: unknown) => void>();
  /** The `closed` of every stateless plugin session: aborted when the node stops serving. */
  private readonly stopped = new AbortController();
  private readonly handlers: ReadonlyMap<string, { capability: keyof ReturnType<typeof capabilitiesOf>; handle: Handler }>;

  constructor(
    private readonly tenantPlugins: TenantPluginsService,
    private readonly deps: PluginCallDeps,
    private readonly requestStates: RequestStateCodec,
  ) {
    this.handlers = new Map<string, { capability: keyof ReturnType<typeof capabilitiesOf>; handle: Handler }>([
      ['tools/list', { capability: 'tools', handle: async (_r, _s, catalog) => ({ ...catalog.toolList, ...CACHE_HINTS }) }],
      ['tools/call', { capability: 'tools', handle: (r, s, c) => this.callTool(r, s, c) }],
      ['prompts/list', { capability: 'prompts', handle: async (_r, _s, catalog) => ({ ...catalog.promptList, ...CACHE_HINTS }) }],
      [
        'prompts/get',
        {
          capability: 'prompts',
          handle: async (r, s, c) => ({ ...(await getPrompt(s, c, s.channel, this.deps, paramsOf(GetPromptRequestSchema, r), r)) }),
        },
      ],
      ['resources/list', { capability: 'resources', handle: async (_r, _s, catalog) => ({ ...catalog.resourceList, ...CACHE_HINTS }) }],
      ['resources/templates/list', { capability: 'resources', handle: async (_r, _s, catalog) => ({ ...catalog.templateList, ...CACHE_HINTS }) }],
      [
        'resources/read',
        {
          capability: 'resources',
          handle: async (r, s, c) => ({ ...(await readResource(s, c, s.channel, this.deps, paramsOf(ReadResourceRequestSchema, r).uri, r)), ...CACHE_HINTS }),
        },
      ],
      [
        'completion/complete',
        { capability: 'completions', handle: async (r, s, c) => ({ ...(await complete(s, c, this.deps, paramsOf(CompleteRequestSchema, r), r)) }) },
      ],
    ]);
  }

  /** Answers one modern request (never a notification: those are accepted by the endpoint). */
  async answer(request: StatelessRequest): Promise<StatelessAnswer> {
    const { id, method } = request.message;
    const catalog = await this.tenantPlugins.catalogFor(request.principal.tenantId, this.scopeOf(request));
    const capabilities = capabilitiesOf(catalog);
    if (method === 'server/discover') return success(id, { supportedVersions: [...MODERN_PROTOCOL_VERSIONS], capabilities, ...CACHE_HINTS });
    const handler = this.handlers.get(method);
    // streamable-http "Request Metadata": an unknown method (and initialize, ping, logging/setLevel,
    // resources/subscribe, removed in 2026-07-28) MUST be 404 with -32601. So is a capability not advertised.
    if (!handler || capabilities[handler.capability] === undefined) {
      return failure(id, { code: JSON_RPC_METHOD_NOT_FOUND, message: `Method not found: ${method}` });
    }
    const input = this.inputOf(request);
    if ('error' in input) return failure(id, input.error);
    const site = this.siteFor(request, input.rounds);
    try {
      return success(id, await handler.handle(request, site.site, catalog));
    } catch (error) {
      if (error instanceof InputRequiredSignal && input.binding) return this.inputRequired(id, input.binding, error.required);
      return failure(id, wireError(error));
    } finally {
      // Per-"session" plugin state (keyed by the context's session) lives as long as the request.
      site.end();
    }
  }

  /** Aborts the running handlers with `reason` (shutdown's grace deadline). */
  abortCalls(reason: unknown): void {
    for (const abort of [...this.running]) abort(reason);
  }

  /** After the drain: ends the stateless plugin sessions (what plugins keep per principal). */
  close(): void {
    this.stopped.abort(new Error('the gateway stopped'));
  }

  private async callTool(request: StatelessRequest, site: StatelessSite, catalog: SessionCatalog): Promise<Record<string, unknown>> {
    const params = paramsOf(CallToolRequestSchema, request);
    const result = await callTool(site, catalog, site.channel, this.deps, params, { signal: request.signal, bytesIn: request.bytesIn });
    return { ...result };
  }

  /**
   * A retry's answers and sealed state (basic/patterns/mrtr), checked before anything runs: the
   * state must open under this principal and this request, unexpired; `inputResponses` must be
   * an object. Methods that cannot ask for input ignore both.
   */
  private inputOf(request: StatelessRequest): { rounds: InputRounds; binding: RequestStateBinding | undefined } | { error: WireError } {
    const { method, params } = request.message;
    const bound = INPUT_METHODS[method];
    if (!bound) return { rounds: new InputRounds(undefined, undefined), binding: undefined };
    const { target, arguments: args } = bound(params);
    const { inputResponses, requestState } = params;
    if (inputResponses !== undefined && (typeof inputResponses !== 'object' || inputResponses === null || Array.isArray(inputResponses))) {
      return { error: { code: JSON_RPC_INVALID_PARAMS, message: 'params.inputResponses must be an object of answers keyed as the inputRequests were' } };
    }
    if (requestState !== undefined && typeof requestState !== 'string') return { error: { code: JSON_RPC_INVALID_PARAMS, message: 'params.requestState must be a string' } };
    const { principal } = request;
    const binding: RequestStateBinding = {
      tenantId: principal.tenantId,
      keyId: principal.keyId,
      subject: principal.subject,
      method,
      target: typeof target === 'string' ? target : '',
      argumentsDigest: digestOf(args),
    };
    let state: InputRoundsState | undefined;
    if (requestState !== undefined) {
      const opened = this.requestStates.open<InputRoundsState>(requestState, binding);
      // mrtr: the server MUST reject state that fails verification. The same answer whether it was
      // modified, another principal's or another request's, so a probe learns nothing.
      if (!opened.ok) {
        const why = opened.reason === 'expired' ? 'has expired; send the request again without it' : 'is not valid for this request';
        return { error: { code: JSON_RPC_INVALID_PARAMS, message: `params.requestState ${why}` } };
      }
      state = opened.value;
    }
    return { rounds: new InputRounds(state, inputResponses as Record<string, unknown> | undefined), binding };
  }

  /** mrtr: the InputRequiredResult, its state sealed to this principal and request. */
  private inputRequired(id: RequestId, binding: RequestStateBinding, required: InputRequiredSignal['required']): StatelessAnswer {
    let requestState: string;
    try {
      requestState = this.requestStates.seal(binding, { ...required.state });
    } catch (error) {
      if (error instanceof RequestStateTooLargeError) return failure(id, { code: JSON_RPC_INTERNAL_ERROR, message: `The handler gathered too much client input: ${error.message}` });
      throw error;
    }
    return answered(id, { inputRequests: required.inputRequests, requestState }, 'input_required');
  }

  private siteFor(request: StatelessRequest, rounds: InputRounds): { site: StatelessSite; end: () => void } {
    const lifetime = new AbortController();
    const running = this.running;
    const { tenantId, keyId, subject } = request.principal;
    const base: CallSite = {
      id: `stateless-${randomUUID()}`,
      binding: bindingOf(request.principal),
      tenantSlug: request.tenantSlug,
      signal: lifetime.signal,
      onClose: (abort) => running.add(abort),
      offClose: (abort) => running.delete(abort),
      // No session on this wire: what a plugin keeps per session (an isolated hosted server) it
      // keeps per principal, until its own idle timeout or the node stops, rather than per request.
      pluginSession: { id: `principal-${digestOf([tenantId, keyId, subject ?? null])}`, closed: this.stopped.signal },
    };
    const site: StatelessSite = { ...base, channel: statelessChannel(request, base, rounds) };
    return { site, end: () => lifetime.abort(REQUEST_ANSWERED) };
  }

  private scopeOf(request: StatelessRequest): CatalogScope {
    return catalogScopeOf(request.principal, request.plugin, request.virtual);
  }
}

/**
 * The reason a stateless request's site ends with, made once: an Error per request captured a
 * stack each time, about 3% of a 2026-07-28 tool call's CPU in the profile (`npm run bench:profile`).
 */
const REQUEST_ANSWERED = new Error('request answered');

/** What discover advertises, from the principal's catalog: a method is served iff its capability is. */
export function capabilitiesOf(catalog: SessionCatalog): {
  tools?: { listChanged: true };
  prompts?: { listChanged: true };
  resources?: { subscribe: true; listChanged: true };
  completions?: object;
} {
  const completes = [...catalog.prompts.values()].some((p) => p.prompt.complete) || catalog.templates.some((t) => t.template.complete);
  // Changes reach `subscriptions/listen` streams on every node (sessions/listener-registry.ts).
  return {
    tools: { listChanged: true },
    ...(catalog.prompts.size > 0 ? { prompts: { listChanged: true } } : {}),
    ...(catalog.resources.size > 0 || catalog.templates.length > 0 ? { resources: { subscribe: true, listChanged: true } } : {}),
    ...(completes ? { completions: {} } : {}),
  };
}

/** The request's params through the SDK's schema for its method (extra `_meta` keys pass through). */
function paramsOf<S extends z.ZodType<{ params: unknown }>>(schema: S, request: StatelessRequest): z.output<S>['params'] {
  const parsed = schema.safeParse({ method: request.message.method, params: request.message.params });
  if (!parsed.success) throw new McpError(ErrorCode.InvalidParams, `Invalid params for ${request.message.method}`);
  return parsed.data.params;
}

/**
 * The stateless request's client: only what its envelope declared, and notifications for this
 * request only, while it runs (streamable-http: they "MUST relate to the originating client request").
 */
function statelessChannel(request: StatelessRequest, site: CallSite, rounds: InputRounds): ClientChannel {
  const { envelope, params } = request.message;
  const declared = envelope.clientCapabilities;
  const client = { sampling: declared['sampling'] !== undefined, elicitation: declared['elicitation'] !== undefined, roots: declared['roots'] !== undefined };
  // The first ask that could not be answered ends the call, whatever the handler does with its error.
  let interruption: Error | undefined;
  const interrupt = (error: Error): never => {
    interruption ??= error;
    throw error;
  };
  const progressToken = progressTokenOf(params);
  const threshold = envelope.logLevel;
  let lastProgress = -Infinity;
  // The site ends when the request is answered (or the client is gone): nothing is sent after that.
  const send = (notification: StatelessNotification): void => {
    if (!site.signal.aborted && !request.signal.aborted) request.notify?.(notification);
  };
  return {
    client,
    undeclaredCapability: 'json-rpc',
    async progress(progress, total, message) {
      // progress.mdx: only for a request that asked with a progressToken, and "The progress value
      // MUST increase with each notification": a report that does not is dropped.
      if (progressToken === undefined || !(progress > lastProgress)) return;
      lastProgress = progress;
      send({
        method: 'notifications/progress',
        params: { progressToken, progress, ...(total !== undefined ? { total } : {}), ...(message ? { message } : {}) },
      });
    },
    async log(plugin, level, data) {
      // logging.mdx: the server MUST NOT emit notifications/message for a request without logLevel.
      if (threshold === undefined || !meetsLogLevel(level, threshold)) return;
      send({ method: 'notifications/message', params: { level, logger: plugin, data } });
    },
    // mrtr: no server-to-client request exists on this wire; an ask is answered from the rounds.
    async ask(requests) {
      if (interruption) throw interruption;
      try {
        return rounds.ask(requests);
      } catch (error) {
        if (error instanceof InputRequiredSignal) return interrupt(error);
        if (error instanceof InvalidInputResponseError) return interrupt(new McpError(ErrorCode.InvalidParams, error.message, { key: error.key }));
        if (error instanceof TooManyInputRoundsError) return interrupt(new McpError(ErrorCode.InvalidRequest, error.message));
        throw error;
      }
    },
    interruption: () => interruption,
    // This request has no subscription of its own: listen streams hear the update from the bus
    // (the tool context announces it, plugin-calls.ts).
    resourceUpdated: async () => undefined,
  };
}

/** The request's `_meta.progressToken` (a string or an integer), if it carries one. */
function progressTokenOf(params: Record<string, unknown>): ProgressToken | undefined {
  const meta = params['_meta'];
  if (typeof meta !== 'object' || meta === null) return undefined;
  const token = (meta as Record<string, unknown>)['progressToken'];
  return typeof token === 'string' || (typeof token === 'number' && Number.isInteger(token)) ? token : undefined;
}

function success(id: RequestId, result: Record<string, unknown>): StatelessAnswer {
  return answered(id, result, 'complete');
}

/** basic/index "Result Responses": every result has resultType and serverInfo in its `_meta`. */
function answered(id: RequestId, result: Record<string, unknown>, resultType: 'complete' | 'input_required'): StatelessAnswer {
  const meta = typeof result['_meta'] === 'object' && result['_meta'] !== null ? (result['_meta'] as Record<string, unknown>) : {};
  return { status: 200, body: { jsonrpc: '2.0', id, result: { ...result, resultType, _meta: { ...meta, [META_SERVER_INFO]: GATEWAY_SERVER_INFO } } } };
}

function failure(id: RequestId, error: WireError): StatelessAnswer {
  return { status: statusOf(error.code), body: { jsonrpc: '2.0', id, error } };
}

/** The spec maps -32021 to 400 and -32601 to 404; other handler errors stay in-band (200), as the SDK does. */
function statusOf(code: number): number {
  if (code === JSON_RPC_MISSING_CLIENT_CAPABILITY) return 400;
  if (code === JSON_RPC_METHOD_NOT_FOUND) return 404;
  return 200;
}

function wireError(error: unknown): WireError {
  if (error instanceof McpError) {
    // resources.mdx 2026-07-28: a missing resource MUST be -32602, not the older -32002.
    const code = error.code === RESOURCE_NOT_FOUND ? JSON_RPC_INVALID_PARAMS : error.code;
    return { code, message: error.message, ...(error.data !== undefined ? { data: error.data } : {}) };
  }
  if (error instanceof CallCancelledByShutdownError) return { code: error.code, message: error.message };
  return { code: JSON_RPC_INTERNAL_ERROR, message: 'Internal error' };
}
