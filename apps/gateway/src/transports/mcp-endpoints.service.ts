import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import type { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { Principal } from '@switchboard/api-keys';
import type { Logger } from '@switchboard/logger';
import { sameBinding, type Caller } from '../auth/credential-binding';
import type { ClusterForwarder, ForwardedRequest } from '../cluster/cluster-forwarder';
import { ownerOfSessionId, SSE_NODE_PARAM, validNodeId } from '../cluster/session-ids';
import { isInitializeRequest, parseJsonRpcBody } from '../http/json-body';
import { refuse, refusalResponse, type HttpRefusalCode } from '../http/jsonrpc-errors';
import type { EndpointAddress, RequestGate } from '../http/request-gate';
import { transportRequestOf, webRequestOf, writeWebResponse, type TransportRequest } from '../http/web-exchange';
import type { GatewayLimits, LeaseRelease } from '../limits/gateway-limits';
import type { GatewayTelemetry } from '../metrics/gateway-telemetry';
import type { McpSession, TransportKind } from '../sessions/mcp-session';
import type { SessionManager } from '../sessions/session-manager';
import type { TenantPluginsService } from '../tenants/tenant-plugins.service';

const SESSION_HEADER = 'mcp-session-id';
/** What the gateway answers to an accepted legacy-SSE message (the SDK's own answer). */
const SSE_ACCEPTED = { status: 202, body: 'Accepted' };

/** For `.catch`: gives the session slot back, then rethrows. */
function releasing(release: LeaseRelease) {
  return (error: unknown): never => {
    void release();
    throw error;
  };
}

/** The endpoint scope a session was opened through; requests must address the same one. */
type Scope = Pick<ForwardedRequest, 'tenantSlug' | 'plugin'>;

/**
 * The HTTP side of both MCP transports; the controller hands every route here with raw req/res.
 * Every request is authenticated on the node it reached. A request for a session held by another
 * node (cluster mode) is forwarded to that node with the caller's binding and endpoint scope; the
 * owner checks them exactly as it checks its own requests (`deliverSseMessage`, `streamableResponse`).
 */
export class McpEndpointsService {
  /** Cluster mode only: requests for other nodes' sessions go through it. */
  private forwarder: ClusterForwarder | undefined;

  constructor(
    private readonly gate: RequestGate,
    private readonly sessions: SessionManager,
    private readonly tenantPlugins: TenantPluginsService,
    private readonly logger: Logger,
    private readonly limits: GatewayLimits,
    private readonly telemetry: GatewayTelemetry,
  ) {}

  /** Cluster mode: forward requests for sessions of other nodes, and answer theirs for ours. */
  enableForwarding(forwarder: ClusterForwarder): void {
    this.forwarder = forwarder;
    forwarder.serve((forwarded) => this.serveForwarded(forwarded));
  }

  /** `GET …/sse`: legacy HTTP+SSE stream; its first event names the POST endpoint. */
  async openSse(req: IncomingMessage, res: ServerResponse, address: EndpointAddress): Promise<void> {
    const principal = await this.admitNewSession(req, res, address);
    if (!principal) return;
    // The session cap is taken before the stream opens, so a refusal is a plain 429.
    const release = await this.limits.acquireSession(principal, randomUUID(), res);
    if (!release) return;
    const messagesPath = address.path.replace(/\/sse$/, '/messages');
    // The SDK keeps the endpoint's query: clients POST to `…/messages?n=<node>&sessionId=…`, so
    // whichever node the balancer picks knows the session's node without a lookup.
    const endpoint = this.forwarder ? `${messagesPath}?${SSE_NODE_PARAM}=${encodeURIComponent(this.forwarder.nodeId)}` : messagesPath;
    const session = await this.sessions
      .openSse({ principal, tenantSlug: address.tenantSlug, plugin: address.plugin }, res, endpoint)
      .catch(releasing(release));
    this.limits.sessionStarted(session, release);
    this.logger.debug({ sessionId: session.id, tenant: address.tenantSlug, transport: 'sse' }, 'session opened');
  }

  /** `POST …/messages?sessionId=`: one message (or batch) into a legacy session; answered 202. */
  async postSseMessage(
    req: IncomingMessage,
    res: ServerResponse,
    address: EndpointAddress,
    sessionId: unknown,
    node: unknown,
    body: unknown,
  ): Promise<void> {
    const principal = await this.gate.admit(req, res, address);
    if (!principal) return;
    if (typeof sessionId !== 'string' || sessionId === '') return refuse(res, 'missing_session', { message: 'Bad Request: sessionId query parameter is required' });
    const owner = this.remoteOwner(validNodeId(node));
    if (owner) return this.forward(owner, this.forwardedRequest('sse', sessionId, principal, address, req, body), res);
    const refusal = await this.deliverSseMessage(sessionId, principal, address, body, req.headers);
    if (refusal) return refuse(res, refusal);
    res.writeHead(SSE_ACCEPTED.status).end(SSE_ACCEPTED.body);
  }

  /** `POST …/mcp`: Streamable HTTP; initialize opens a session, everything else needs its header. */
  async streamablePost(req: IncomingMessage, res: ServerResponse, address: EndpointAddress, body: unknown): Promise<void> {
    const sessionId = req.headers[SESSION_HEADER];
    const principal = await this.gate.admit(req, res, address);
    if (!principal) return;
    if (typeof sessionId === 'string') return this.streamableExisting(req, res, address, principal, sessionId, body);
    const parsed = parseJsonRpcBody(body);
    if (!parsed.ok) return refuse(res, parsed.refusal);
    if (!isInitializeRequest(parsed.messages)) return refuse(res, 'missing_session');
    const refusal = await this.newSessionRefusal(principal, address);
    if (refusal) return refusal(res);
    const release = await this.limits.acquireSession(principal, randomUUID(), res);
    if (!release) return;
    // The node that answers initialize owns the session; its id names this node.
    const session = await this.sessions.createStreamable({ principal, tenantSlug: address.tenantSlug, plugin: address.plugin }).catch(releasing(release));
    const transport = session.transport as WebStandardStreamableHTTPServerTransport;
    const response = await transport
      .handleRequest(webRequestOf(transportRequestOf(req)), { parsedBody: parsed.batch ? parsed.messages : parsed.messages[0] })
      .catch(releasing(release));
    // The SDK names the session only once it accepted the initialization.
    if (transport.sessionId !== undefined) this.limits.sessionStarted(session, release);
    else void release();
    await writeWebResponse(response, res, this.sessions.keepAliveMs);
  }

  /** `GET …/mcp` (server-initiated stream, resumable) and `DELETE …/mcp` (end the session). */
  async streamableSession(req: IncomingMessage, res: ServerResponse, address: EndpointAddress): Promise<void> {
    const principal = await this.gate.admit(req, res, address);
    if (!principal) return;
    const sessionId = req.headers[SESSION_HEADER];
    if (typeof sessionId !== 'string') return refuse(res, 'missing_session');
    return this.streamableExisting(req, res, address, principal, sessionId, undefined);
  }

  private async streamableExisting(
    req: IncomingMessage,
    res: ServerResponse,
    address: EndpointAddress,
    principal: Principal,
    sessionId: string,
    body: unknown,
  ): Promise<void> {
    const owner = this.remoteOwner(ownerOfSessionId(sessionId));
    if (owner) return this.forward(owner, this.forwardedRequest('streamable-http', sessionId, principal, address, req, body), res);
    const response = await this.streamableResponse(sessionId, principal, address, transportRequestOf(req), body);
    await writeWebResponse(response, res, this.sessions.keepAliveMs);
  }

  /** Owner side of forwarding: the same checks and handling as a request that arrived here. */
  private async serveForwarded(forwarded: ForwardedRequest): Promise<Response> {
    if (forwarded.transport === 'streamable-http') {
      return this.streamableResponse(forwarded.sessionId, forwarded.binding, forwarded, forwarded.request, forwarded.body);
    }
    const refusal = await this.deliverSseMessage(forwarded.sessionId, forwarded.binding, forwarded, forwarded.body, forwarded.request.headers);
    if (refusal) return refusalResponse(refusal);
    return new Response(SSE_ACCEPTED.body, { status: SSE_ACCEPTED.status });
  }

  /** Feeds a legacy-SSE message into a session of this node; a refusal code when it cannot. */
  private async deliverSseMessage(
    sessionId: string,
    caller: Caller,
    scope: Scope,
    body: unknown,
    headers: IncomingMessage['headers'],
  ): Promise<HttpRefusalCode | undefined> {
    const session = this.boundSession(sessionId, caller, scope, 'sse');
    if (!session) return 'session_not_found';
    const parsed = parseJsonRpcBody(body);
    if (!parsed.ok) return parsed.refusal;
    session.touch();
    const transport = session.transport as SSEServerTransport;
    try {
      for (const message of parsed.messages) await transport.handleMessage(message, { requestInfo: { headers } });
    } catch {
      return 'invalid_request';
    }
    return undefined;
  }

  /** A Streamable HTTP request (POST, GET, DELETE) to a session of this node, as a web Response. */
  private async streamableResponse(sessionId: string, caller: Caller, scope: Scope, request: TransportRequest, body: unknown): Promise<Response> {
    const session = this.boundSession(sessionId, caller, scope, 'streamable-http');
    if (!session) return refusalResponse('session_not_found');
    let parsedBody: unknown;
    if (request.method === 'POST') {
      const parsed = parseJsonRpcBody(body);
      if (!parsed.ok) return refusalResponse(parsed.refusal);
      parsedBody = parsed.batch ? parsed.messages : parsed.messages[0];
    }
    session.touch();
    const transport = session.transport as WebStandardStreamableHTTPServerTransport;
    return transport.handleRequest(webRequestOf(request), { parsedBody });
  }

  /** Hands a request to the session's owner node; counted as a forwarded message and timed. */
  private async forward(owner: string, forwarded: ForwardedRequest, res: ServerResponse): Promise<void> {
    this.telemetry.markForwarded(res);
    const started = performance.now();
    await this.forwarder!.forward(owner, forwarded, res);
    // A GET stream lasts as long as the client keeps it open: only request–answer exchanges are timed.
    if (forwarded.request.method !== 'GET') this.telemetry.forwardFinished((performance.now() - started) / 1000);
  }

  /** The node to forward to, when the client names one other than this node (cluster mode only). */
  private remoteOwner(node: string | undefined): string | undefined {
    return this.forwarder && node !== undefined && node !== this.forwarder.nodeId ? node : undefined;
  }

  private forwardedRequest(
    transport: TransportKind,
    sessionId: string,
    principal: Principal,
    address: EndpointAddress,
    req: IncomingMessage,
    body: unknown,
  ): ForwardedRequest {
    return {
      transport,
      sessionId,
      // Identity only: the owner compares it with the session's binding.
      binding: { tenantId: principal.tenantId, keyId: principal.keyId, ...(principal.subject !== undefined ? { subject: principal.subject } : {}) },
      tenantSlug: address.tenantSlug,
      ...(address.plugin !== undefined ? { plugin: address.plugin } : {}),
      request: transportRequestOf(req),
      // A non-JSON body is not forwarded; the owner then answers 415 as it would locally.
      ...(typeof body === 'string' ? { body } : {}),
    };
  }

  /**
   * The session, if it exists on this node, was opened through this endpoint, and belongs to
   * this credential. Every other case looks the same to the caller: not found.
   */
  private boundSession(id: string, caller: Caller, scope: Scope, kind: TransportKind): McpSession | undefined {
    const session = this.sessions.registry.get(id);
    if (!session || session.transportKind !== kind || !sameBinding(session.binding, caller)) return undefined;
    if (session.tenantSlug !== scope.tenantSlug || session.scope.plugin !== scope.plugin) return undefined;
    return session;
  }

  private async admitNewSession(req: IncomingMessage, res: ServerResponse, address: EndpointAddress): Promise<Principal | undefined> {
    const principal = await this.gate.admit(req, res, address);
    if (!principal) return undefined;
    const refusal = await this.newSessionRefusal(principal, address);
    if (refusal) {
      refusal(res);
      return undefined;
    }
    return principal;
  }

  private async newSessionRefusal(principal: Principal, address: EndpointAddress): Promise<((res: ServerResponse) => void) | undefined> {
    const nodeRefusal = this.sessions.refusalForNewSession();
    if (nodeRefusal) return (res) => refuse(res, nodeRefusal, { headers: { 'retry-after': '1' } });
    if (address.plugin !== undefined && !(await this.tenantPlugins.isEnabled(principal.tenantId, address.plugin))) {
      return (res) => refuse(res, 'not_found');
    }
    return undefined;
  }
}
