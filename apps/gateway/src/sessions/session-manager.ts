import type { ServerResponse } from 'node:http';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { WebStandardStreamableHTTPServerTransport, type EventStore } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { systemClock, type ApiKeyResolver, type Clock, type Principal } from '@switchboard/api-keys';
import type { AnnouncedList, ControlEvent } from '@switchboard/coordination';
import type { Logger } from '@switchboard/logger';
import { KEEP_ALIVE_FRAME } from '../protocol/web-exchange';
import { bindingOf } from '../auth/credential-binding';
import type { RequestStateCodec } from '../auth/request-state';
import type { HttpRefusalCode, Refusal } from '../protocol/jsonrpc-errors';
import { newSessionId } from './session-ids';
import { createSessionServer, type SessionServerDeps } from './session-server';
import { CallCancelledByShutdownError, SHUTDOWN_CANCELLATION } from './tool-timeout';
import type { ToolCalls } from './tool-calls';
import { catalogScopeOf, type CatalogScope, type TenantPluginsService } from '../tenants/tenant-plugins';
import { scopeSees } from './listener-registry';
import type { PluginCallDeps } from './plugin-calls';
import { McpSession } from './mcp-session';
import { StatelessServer } from './stateless-server';
import type { RequestTracker } from './request-tracker';
import type { SessionRegistry } from './session-registry';

/**
 * After the grace deadline aborted the running handlers, how long shutdown waits at most for the
 * SDK to write their errors (a few ticks; generous on purpose). Requests still unanswered then
 * (a handler outside the abortable part, such as a limit check waiting on Redis) get the same
 * error written directly as their session closes.
 */
const CANCEL_ANSWER_MS = 1_000;
/** A draining node's answer to requests: the client re-initializes, on another node. */
const SHUTTING_DOWN: Refusal = { code: 'shutting_down', headers: { 'retry-after': '1' } };
/** Idle sessions are looked for at least this often, whatever the keep-alive interval. */
const MAX_SWEEP_INTERVAL_MS = 5_000;
const ALL_LISTS: readonly AnnouncedList[] = ['tools', 'prompts', 'resources'];

export interface SessionManagerOptions {
  keepAliveMs: number;
  idleTimeoutMs: number;
  maxPerNode: number;
  defaultTimeoutMs: number;
  /** Written into Streamable HTTP session ids, so any node can tell where a session lives. */
  nodeId: string;
  /** Cluster mode: where a session's GET-stream events are kept for resumption on any node. */
  eventStoreFor?: (sessionId: string) => EventStore;
  toolCalls: ToolCalls;
  /** The node's requests in progress: sessions report to it, and the drain waits on it. */
  requests: RequestTracker;
  /** Seals and opens the 2026-07-28 requestState of a request that asked its client for input. */
  requestStates: RequestStateCodec;
  /** Time for idle and credential-expiry checks; the system clock by default. */
  clock?: Clock;
  /** Where a plugin's list changes and resource updates are published for every node (the control bus). */
  announce?: PluginCallDeps['announce'];
  /** OpenTelemetry spans around plugin calls; off without it. */
  tracing?: PluginCallDeps['tracing'];
}

export interface OpenRequest {
  principal: Principal;
  tenantSlug: string;
  plugin: string | undefined;
  /** The virtual server the endpoint addresses (`/t/{tenant}/v/{name}/…`). */
  virtual?: string | undefined;
}

/**
 * Opens, tracks and closes this node's MCP sessions: one keep-alive/idle sweep for all of them
 * (one timer rather than one per session), control events applied to open sessions, drain on
 * shutdown.
 */
export class SessionManager {
  private draining = false;
  private sweeper: NodeJS.Timeout | undefined;
  private lastKeepAliveAt: number;
  private readonly serverDeps: SessionServerDeps;
  private readonly clock: Clock;
  /** MCP 2026-07-28 requests: no session, the same plugin calls; drained with the sessions. */
  readonly stateless: StatelessServer;

  constructor(
    readonly registry: SessionRegistry,
    private readonly tenantPlugins: TenantPluginsService,
    private readonly keys: Pick<ApiKeyResolver, 'resolveKeyId'>,
    private readonly logger: Logger,
    private readonly options: SessionManagerOptions,
  ) {
    this.serverDeps = {
      defaultTimeoutMs: options.defaultTimeoutMs,
      logger,
      toolCalls: options.toolCalls,
      ...(options.announce ? { announce: options.announce } : {}),
      ...(options.tracing ? { tracing: options.tracing } : {}),
    };
    this.stateless = new StatelessServer(tenantPlugins, this.serverDeps, options.requestStates);
    this.clock = options.clock ?? systemClock;
    this.lastKeepAliveAt = this.clock.now();
  }

  /** Why a new session cannot open on this node right now, if it cannot. */
  refusalForNewSession(): HttpRefusalCode | undefined {
    if (this.draining) return 'shutting_down';
    if (this.registry.size >= this.options.maxPerNode) return 'node_full';
    return undefined;
  }

  /**
   * Why messages POSTed to an open session are refused, if they are. While draining, requests
   * are refused so the client re-initializes on another node; notifications and responses (to
   * sampling or elicitation) still go in, so calls in flight can finish.
   */
  refusalForMessages(messages: readonly JSONRPCMessage[]): Refusal | undefined {
    if (this.draining && messages.some((message) => 'method' in message && 'id' in message)) return SHUTTING_DOWN;
    return undefined;
  }

  /** Interval of keep-alive comments on event streams (SSE_KEEPALIVE_MS). */
  get keepAliveMs(): number {
    return this.options.keepAliveMs;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Legacy HTTP+SSE: opens the stream on `res` and announces `messagesPath` as the POST endpoint. */
  async openSse(request: OpenRequest, res: ServerResponse, messagesPath: string): Promise<McpSession> {
    const catalog = await this.tenantPlugins.catalogFor(request.principal.tenantId, this.scopeOf(request));
    const transport = new SSEServerTransport(messagesPath, res);
    const session = this.newSession(request, transport.sessionId, 'sse', catalog, res);
    await this.connect(session, transport);
    this.registry.add(session);
    return session;
  }

  /**
   * Streamable HTTP: a session whose transport will answer the initialize request. It enters the
   * registry only once the SDK accepted the initialization.
   */
  async createStreamable(request: OpenRequest): Promise<McpSession> {
    const catalog = await this.tenantPlugins.catalogFor(request.principal.tenantId, this.scopeOf(request));
    const id = newSessionId(this.options.nodeId);
    const session = this.newSession(request, id, 'streamable-http', catalog, undefined);
    // The web-standard transport directly (not the SDK's Node wrapper, which builds a listener
    // per request): local and forwarded requests go through the same handleRequest.
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => id,
      eventStore: this.options.eventStoreFor?.(id),
      onsessioninitialized: () => this.registry.add(session),
    });
    await this.connect(session, transport);
    return session;
  }

  /** Admin-side changes reaching open sessions (revocations within a second, plugin changes). */
  async onControlEvent(event: ControlEvent): Promise<void> {
    switch (event.type) {
      case 'api-key.revoked':
        await this.closeWhere((s) => s.binding.keyId === event.keyId);
        return;
      case 'oauth-grant.revoked':
        // As for a revoked key: the grant's tokens are refused already (RevokedGrants), its sessions close.
        await this.closeWhere((s) => s.binding.tenantId === event.tenantId && s.binding.grantId === event.grantId);
        return;
      case 'tenant.deleted':
        this.tenantPlugins.invalidate(event.tenantId);
        await this.closeWhere((s) => s.binding.tenantId === event.tenantId);
        return;
      case 'tenant.changed':
        // Suspension: each distinct key of the tenant is asked again (the resolver's cache was
        // invalidated by the same event), and sessions whose key no longer resolves are closed.
        await this.recheckTenantKeys(event.tenantId);
        return;
      case 'plugins.changed':
        this.tenantPlugins.invalidate(event.tenantId);
        await this.refreshCatalogs(event.tenantId, ALL_LISTS);
        return;
      case 'list.changed':
        // A plugin's own word (ctx.listChanged): its list may be dynamic (listTools), so re-list.
        this.tenantPlugins.invalidate(event.tenantId);
        await this.refreshCatalogs(event.tenantId, [event.list], event.plugin);
        return;
      case 'resource.updated':
        // A session's own subscriptions hear it from the tool's channel; listen streams from the bus.
        return;
      case 'session.terminate':
        await this.registry.get(event.sessionId)?.close();
        return;
    }
  }

  startSweeper(): void {
    const interval = Math.min(this.options.keepAliveMs, this.options.idleTimeoutMs, MAX_SWEEP_INTERVAL_MS);
    this.sweeper = setInterval(() => this.sweep(), interval);
    // Never keeps the process alive by itself.
    this.sweeper.unref();
  }

  /**
   * Stops new sessions and new requests, waits up to `graceMs` for every request in flight to be
   * answered, then answers those still running with a JSON-RPC error (aborting their handlers)
   * and closes every session. No client is left waiting for an answer that never comes.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.draining = true;
    clearInterval(this.sweeper);
    await this.options.requests.drained(graceMs);
    if (this.options.requests.inProgress > 0) {
      const cancelled = new CallCancelledByShutdownError();
      for (const session of this.registry.values()) session.abortCalls(cancelled);
      this.stateless.abortCalls(cancelled);
      await this.options.requests.drained(CANCEL_ANSWER_MS);
    }
    await Promise.all([...this.registry.values()].map((session) => session.close(SHUTDOWN_CANCELLATION)));
    this.stateless.close();
  }

  private sweep(): void {
    const now = this.clock.now();
    const keepAliveDue = now - this.lastKeepAliveAt >= this.options.keepAliveMs;
    if (keepAliveDue) this.lastKeepAliveAt = now;
    for (const session of this.registry.values()) {
      const { expiresAt } = session.binding;
      if (expiresAt !== undefined && expiresAt <= now) {
        // As for a revoked key: its requests are refused already (401), its streams end now.
        this.logger.debug({ sessionId: session.id }, 'closing session: its credential expired');
        void session.close();
      } else if (now - session.lastActivityAt > this.options.idleTimeoutMs && session.unansweredCount === 0) {
        this.logger.debug({ sessionId: session.id }, 'closing idle session');
        void session.close();
      } else if (keepAliveDue && session.stream && !session.stream.writableEnded) {
        session.stream.write(KEEP_ALIVE_FRAME);
      }
    }
  }

  private scopeOf(request: OpenRequest): CatalogScope {
    return catalogScopeOf(request.principal, request.plugin, request.virtual);
  }

  private newSession(
    request: OpenRequest,
    id: string,
    kind: McpSession['transportKind'],
    catalog: McpSession['catalog'],
    stream: ServerResponse | undefined,
  ): McpSession {
    return new McpSession(
      { id, transportKind: kind, binding: bindingOf(request.principal), tenantSlug: request.tenantSlug, scope: this.scopeOf(request), catalog, stream },
      (closed) => this.registry.remove(closed.id),
    );
  }

  private async connect(session: McpSession, transport: SSEServerTransport | WebStandardStreamableHTTPServerTransport): Promise<void> {
    session.server = createSessionServer(session, this.serverDeps);
    session.transport = transport;
    // The transport closes when the client disconnects or DELETEs: end the session with it.
    session.server.onclose = () => void session.close();
    await session.server.connect(transport);
    session.watch(this.options.requests);
  }

  private async closeWhere(predicate: (session: McpSession) => boolean): Promise<void> {
    const doomed = [...this.registry.values()].filter(predicate);
    await Promise.all(doomed.map((session) => session.close()));
  }

  private async recheckTenantKeys(tenantId: string): Promise<void> {
    const keyIds = new Set([...this.registry.values()].filter((s) => s.binding.tenantId === tenantId).map((s) => s.binding.keyId));
    for (const keyId of keyIds) {
      const result = await this.keys.resolveKeyId(keyId).catch(() => undefined);
      if (result && !result.ok) await this.closeWhere((s) => s.binding.keyId === keyId);
    }
  }

  /** Re-reads the catalogs of the tenant's sessions (those that can see `plugin`, if given) and tells them which lists changed. */
  private async refreshCatalogs(tenantId: string, lists: readonly AnnouncedList[], plugin?: string): Promise<void> {
    for (const session of [...this.registry.values()]) {
      if (session.binding.tenantId !== tenantId || (plugin !== undefined && !scopeSees(session.scope, plugin))) continue;
      try {
        session.catalog = await this.tenantPlugins.catalogFor(tenantId, session.scope);
        if (lists.includes('tools')) await session.server.sendToolListChanged();
        if (lists.includes('prompts')) await session.server.sendPromptListChanged();
        if (lists.includes('resources')) await session.server.sendResourceListChanged();
      } catch (error) {
        this.logger.warn({ sessionId: session.id, err: error }, 'could not refresh the session after a plugin change');
      }
    }
  }
}
