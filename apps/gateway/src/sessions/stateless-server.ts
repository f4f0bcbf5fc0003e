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
import { ClientCapabilityError } from '@switchboard/plugin-sdk';
import { bindingOf } from '../auth/credential-binding';
import type { SessionCatalog } from '../catalog/session-catalog';
import {
  JSON_RPC_METHOD_NOT_FOUND,
  JSON_RPC_MISSING_CLIENT_CAPABILITY,
  META_SERVER_INFO,
  MODERN_PROTOCOL_VERSIONS,
  type ModernMessage,
} from '../protocol/modern-wire';
import { JSON_RPC_INTERNAL_ERROR, JSON_RPC_INVALID_PARAMS } from '../protocol/jsonrpc-errors';
import type { CatalogScope, TenantPluginsService } from '../tenants/tenant-plugins';
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

/**
 * caching.mdx: cacheable results MUST carry hints. Every list here depends on the tenant and the
 * key's grant, and changes when an admin enables a plugin: private, and not to be kept.
 */
const CACHE_HINTS = { ttlMs: 0, cacheScope: 'private' } as const;
/** Until MRTR (issue 14, step 3): a declared capability the stateless era cannot serve yet. */
const NO_INPUT_REQUESTS_YET = 'sampling and elicitation are not available on the 2026-07-28 wire of this gateway yet';

/** One modern request, as the endpoint admitted it. */
export interface StatelessRequest {
  message: ModernMessage & { id: RequestId };
  principal: Principal;
  tenantSlug: string;
  /** The plugin the endpoint addresses (`/t/{tenant}/p/{plugin}/mcp`). */
  plugin: string | undefined;
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

type Handler = (request: StatelessRequest, site: CallSite, catalog: SessionCatalog) => Promise<Record<string, unknown>>;

/**
 * MCP 2026-07-28 served statelessly: each request stands alone, on whichever node it lands,
 * against the principal's catalog, through the same plugin calls as a 2025 session
 * (plugin-calls.ts). A tool's progress (with the request's progressToken) and its logs (with
 * the request's logLevel) go to `request.notify` while the request runs, and never after.
 */
export class StatelessServer {
  /** Aborts of running handlers, for the shutdown's grace deadline (as `McpSession.abortCalls`). */
  private readonly running = new Set<(reason: unknown) => void>();
  private readonly handlers: ReadonlyMap<string, { capability: keyof ReturnType<typeof capabilitiesOf>; handle: Handler }>;

  constructor(
    private readonly tenantPlugins: TenantPluginsService,
    private readonly deps: PluginCallDeps,
  ) {
    this.handlers = new Map<string, { capability: keyof ReturnType<typeof capabilitiesOf>; handle: Handler }>([
      ['tools/list', { capability: 'tools', handle: async (_r, _s, catalog) => ({ ...catalog.toolList, ...CACHE_HINTS }) }],
      ['tools/call', { capability: 'tools', handle: (r, s, c) => this.callTool(r, s, c) }],
      ['prompts/list', { capability: 'prompts', handle: async (_r, _s, catalog) => ({ ...catalog.promptList, ...CACHE_HINTS }) }],
      [
        'prompts/get',
        {
          capability: 'prompts',
          handle: async (r, s, c) => ({ ...(await getPrompt(s, c, this.deps, paramsOf(GetPromptRequestSchema, r), r)) }),
        },
      ],
      ['resources/list', { capability: 'resources', handle: async (_r, _s, catalog) => ({ ...catalog.resourceList, ...CACHE_HINTS }) }],
      ['resources/templates/list', { capability: 'resources', handle: async (_r, _s, catalog) => ({ ...catalog.templateList, ...CACHE_HINTS }) }],
      [
        'resources/read',
        {
          capability: 'resources',
          handle: async (r, s, c) => ({ ...(await readResource(s, c, this.deps, paramsOf(ReadResourceRequestSchema, r).uri, r)), ...CACHE_HINTS }),
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
    const site = this.siteFor(request);
    try {
      return success(id, await handler.handle(request, site.site, catalog));
    } catch (error) {
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

  private async callTool(request: StatelessRequest, site: CallSite, catalog: SessionCatalog): Promise<Record<string, unknown>> {
    const params = paramsOf(CallToolRequestSchema, request);
    const result = await callTool(site, catalog, statelessChannel(request, site), this.deps, params, { signal: request.signal, bytesIn: request.bytesIn });
    return { ...result };
  }

  private siteFor(request: StatelessRequest): { site: CallSite; end: () => void } {
    const lifetime = new AbortController();
    const running = this.running;
    const site: CallSite = {
      id: `stateless-${randomUUID()}`,
      binding: bindingOf(request.principal),
      tenantSlug: request.tenantSlug,
      signal: lifetime.signal,
      onClose: (abort) => running.add(abort),
      offClose: (abort) => running.delete(abort),
    };
    return { site, end: () => lifetime.abort(new Error('request answered')) };
  }

  private scopeOf(request: StatelessRequest): CatalogScope {
    return { plugin: request.plugin, allowed: request.principal.plugins };
  }
}

/** What discover advertises, from the principal's catalog: a method is served iff its capability is. */
function capabilitiesOf(catalog: SessionCatalog): { tools?: object; prompts?: object; resources?: object; completions?: object } {
  const completes = [...catalog.prompts.values()].some((p) => p.prompt.complete) || catalog.templates.some((t) => t.template.complete);
  return {
    tools: {},
    ...(catalog.prompts.size > 0 ? { prompts: {} } : {}),
    ...(catalog.resources.size > 0 || catalog.templates.length > 0 ? { resources: {} } : {}),
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
function statelessChannel(request: StatelessRequest, site: CallSite): ClientChannel {
  const { envelope, params } = request.message;
  const declared = envelope.clientCapabilities;
  const client = { sampling: declared['sampling'] !== undefined, elicitation: declared['elicitation'] !== undefined };
  const inputRequest = async (capability: 'sampling' | 'elicitation'): Promise<never> => {
    // basic/index: a server MUST NOT rely on capabilities the client has not declared (-32021).
    if (!client[capability]) throw new ClientCapabilityError(capability);
    throw new Error(NO_INPUT_REQUESTS_YET);
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
    sample: () => inputRequest('sampling'),
    elicit: () => inputRequest('elicitation'),
    // No subscriptions/listen yet: nobody to tell.
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

/** basic/index "Result Responses": every result has resultType and serverInfo in its `_meta`. */
function success(id: RequestId, result: Record<string, unknown>): StatelessAnswer {
  const meta = typeof result['_meta'] === 'object' && result['_meta'] !== null ? (result['_meta'] as Record<string, unknown>) : {};
  return { status: 200, body: { jsonrpc: '2.0', id, result: { ...result, resultType: 'complete', _meta: { ...meta, [META_SERVER_INFO]: GATEWAY_SERVER_INFO } } } };
}

function failure(id: RequestId, error: { code: number; message: string; data?: unknown }): StatelessAnswer {
  return { status: statusOf(error.code), body: { jsonrpc: '2.0', id, error } };
}

/** The spec maps -32021 to 400 and -32601 to 404; other handler errors stay in-band (200), as the SDK does. */
function statusOf(code: number): number {
  if (code === JSON_RPC_MISSING_CLIENT_CAPABILITY) return 400;
  if (code === JSON_RPC_METHOD_NOT_FOUND) return 404;
  return 200;
}

function wireError(error: unknown): { code: number; message: string; data?: unknown } {
  if (error instanceof McpError) {
    // resources.mdx 2026-07-28: a missing resource MUST be -32602, not the older -32002.
    const code = error.code === RESOURCE_NOT_FOUND ? JSON_RPC_INVALID_PARAMS : error.code;
    return { code, message: error.message, ...(error.data !== undefined ? { data: error.data } : {}) };
  }
  if (error instanceof CallCancelledByShutdownError) return { code: error.code, message: error.message };
  return { code: JSON_RPC_INTERNAL_ERROR, message: 'Internal error' };
}
