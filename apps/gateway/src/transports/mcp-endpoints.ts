import { randomUUID } from 'node:crypto';
import type { Tracing } from '@switchboard/tracing';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import type { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { Principal } from '@switchboard/api-keys';
import type { Logger } from '@switchboard/logger';
import { insufficientScope, publicBaseUrl, resourceMetadataUrl } from '../auth/auth-challenge';
import { sameBinding, type Caller } from '../auth/credential-binding';
import { scopeStepUp } from '../auth/scope-step-up';
import type { ClusterForwarder, ForwardedRequest } from '../cluster/cluster-forwarder';
import { ownerOfSessionId, SSE_NODE_PARAM, validNodeId } from '../sessions/session-ids';
import { isInitializeRequest, parseJsonRpcBody, requestIds, scanJsonRpcBody, type ParsedMessages, type ScannedBody } from '../protocol/json-rpc-body';
import { JSON_RPC_INTERNAL_ERROR, refuse, refusalResponse, type Refusal } from '../protocol/jsonrpc-errors';
import {
  checkParamHeaders,
  classifyPost,
  isModernVersion,
  MCP_METHOD_HEADER,
  MCP_NAME_HEADER,
  mayBeModern,
  modernAnswerBody,
  modernErrorBody,
  type DistinctHeaders,
  type EraDecision,
  type ModernHeaders,
  type ModernMessage,
  type ModernRefusal,
} from '../protocol/modern-wire';
import { LISTEN_METHOD, type ModernListen } from './modern-listen';
import { ModernResponse } from './modern-response';
import type { EndpointAddress } from './request-gate';
import { transportRequestOf, webRequestOf, writeWebResponse, type StreamOptions, type TransportRequest } from '../protocol/web-exchange';
import type { GatewayLimits, LeaseRelease } from '../accounting/gateway-limits';
import type { GatewayTelemetry } from '../accounting/gateway-telemetry';
import type { McpSession, TransportKind } from '../sessions/mcp-session';
import type { RequestTracker } from '../sessions/request-tracker';
import type { SessionManager } from '../sessions/session-manager';
import { catalogScopeOf, type TenantPluginsService } from '../tenants/tenant-plugins';

const SESSION_HEADER = 'mcp-session-id';
const PROTOCOL_VERSION_HEADER = 'mcp-protocol-version';
/** The standard headers a modern request mirrors from its body: each may appear once. */
const MIRRORED_HEADERS = [PROTOCOL_VERSION_HEADER, MCP_METHOD_HEADER, MCP_NAME_HEADER];
/** Why a modern request's signal aborts: its client closed the request before the answer. */
const CLIENT_CLOSED = 'the client closed the request';
/** Why it aborts when its client stopped reading the answer's event stream (backpressure). */
const CLIENT_STOPPED_READING = 'the client stopped reading the answer';
/** What the gateway answers to an accepted legacy-SSE message (the SDK's own answer). */
const SSE_ACCEPTED = { status: 202, body: 'Accepted' };

/** For `.catch`: gives the session slot back, then rethrows. */
function releasing(release: LeaseRelease) {
  return (error: unknown): never => {
    void release();
    throw error;
  };
}

/** What parsing a POST's body gave: its messages or the refusal. */
type ParsedBody = ReturnType<typeof parseJsonRpcBody>;

/** The endpoint scope a session was opened through; requests must address the same one. */
type Scope = Pick<ForwardedRequest, 'tenantSlug' | 'plugin' | 'virtual'>;

export interface McpEndpointsParts {
  sessions: SessionManager;
  tenantPlugins: TenantPluginsService;
  limits: GatewayLimits;
  telemetry: GatewayTelemetry;
  /** Requests in progress per session and tenant: duplicate ids, tenant share, slow readers. */
  requests: RequestTracker;
  /** Unread bytes a Streamable HTTP answer stream may pile up before it is cut. */
  maxBufferedBytes: number;
  logger: Logger;
  /** Cluster mode only: requests for other nodes' sessions go through it, theirs for ours arrive from it. */
  forwarder?: ClusterForwarder;
  /** `subscriptions/listen` streams (2026-07-28): long-lived, outside the in-progress count. */
  listen: ModernListen;
  /** OpenTelemetry: an `admission` span around the request limits; off without it. */
  tracing?: Tracing;
  /** PUBLIC_GATEWAY_URL: the base of the metadata URL a step-up challenge names. */
  publicUrl: string | undefined;
}

/**
 * The HTTP side of both MCP transports; the routes hand every request here with raw req/res and
 * the principal the gate admitted before the body was read. A POST's messages are counted against
 * the request limits where the request lands. A request for a session held by another node
 * (cluster mode) is forwarded to that node with the caller's binding and endpoint scope; the owner
 * checks them exactly as it checks its own requests (`deliverSseMessage`, `streamableResponse`).
 * Checks return refusals; only this class and the routes write them.
 */
export class McpEndpointsService {
  private readonly sessions: SessionManager;
  private readonly forwarder: ClusterForwarder | undefined;

  constructor(private readonly parts: McpEndpointsParts) {
    this.sessions = parts.sessions;
    this.forwarder = parts.forwarder;
    this.forwarder?.serve((forwarded) => this.serveForwarded(forwarded));
  }

  /** `GET …/sse`: legacy HTTP+SSE stream; its first event names the POST endpoint. */
  async openSse(req: IncomingMessage, res: ServerResponse, principal: Principal, address: EndpointAddress): Promise<void> {
    const refusal = (await this.admitRequest(principal, 1, res)) ?? (await this.newSessionRefusal(principal, address));
    if (refusal) return refuse(res, refusal.code, refusal);
    // The session cap is taken before the stream opens, so a refusal is a plain 429.
    const slot = await this.parts.limits.acquireSession(principal, randomUUID());
    if (!slot.ok) return refuse(res, slot.refusal.code, slot.refusal);
    const { release } = slot;
    const messagesPath = address.path.replace(/\/sse$/, '/messages');
    // The SDK keeps the endpoint's query: clients POST to `…/messages?n=<node>&sessionId=…`, so
    // whichever node the balancer picks knows the session's node without a lookup.
    const endpoint = this.forwarder ? `${messagesPath}?${SSE_NODE_PARAM}=${encodeURIComponent(this.forwarder.nodeId)}` : messagesPath;
    const session = await this.sessions
      .openSse({ principal, tenantSlug: address.tenantSlug, plugin: address.plugin, virtual: address.virtual }, res, endpoint)
      .catch(releasing(release));
    this.parts.limits.sessionStarted(session, release);
    this.parts.logger.debug({ sessionId: session.id, tenant: address.tenantSlug, transport: 'sse' }, 'session opened');
  }

  /** `POST …/messages?sessionId=`: one message (or batch) into a legacy session; answered 202. */
  async postSseMessage(
    req: IncomingMessage,
    res: ServerResponse,
    principal: Principal,
    address: EndpointAddress,
    sessionId: unknown,
    node: unknown,
    body: unknown,
  ): Promise<void> {
    if (typeof sessionId !== 'string' || sessionId === '') return refuse(res, 'missing_session', { message: 'Bad Request: sessionId query parameter is required' });
    const admitted = await this.admitBody(principal, body, res);
    if (!admitted.ok) return refuse(res, admitted.refusal.code, admitted.refusal);
    const owner = this.remoteOwner(validNodeId(node));
    if (owner) return this.forward(owner, this.forwardedRequest('sse', sessionId, principal, address, req, body), res);
    const parsed = parseJsonRpcBody(admitted.body);
    if (!parsed.ok) return refuse(res, parsed.refusal, parsed);
    const refusal = await this.deliverSseMessage(sessionId, principal, address, parsed, req.headers);
    if (refusal) return refuse(res, refusal.code, refusal);
    res.writeHead(SSE_ACCEPTED.status).end(SSE_ACCEPTED.body);
  }

  /**
   * `POST …/mcp`: a request carrying the 2026-07-28 `_meta` is served statelessly, here, whatever
   * its Mcp-Session-Id (streamable-http "Earlier revisions": ignore it); otherwise Streamable HTTP
   * 2025, where initialize opens a session and everything else needs its header.
   */
  async streamablePost(req: IncomingMessage, res: ServerResponse, principal: Principal, address: EndpointAddress, body: unknown): Promise<void> {
    const admitted = await this.admitBody(principal, body, res);
    // Before the parse only the header tells the era: a modern request MUST carry it, a 2025 client never sends a 2026 value.
    if (!admitted.ok) return refuse(res, admitted.refusal.code, { ...admitted.refusal, era: isModernVersion(headerValue(req, PROTOCOL_VERSION_HEADER)) ? 'modern' : 'legacy' });
    const scanned = admitted.body;
    const modern = this.modernPost(req, scanned);
    if (modern) return this.serveModern(req, res, principal, address, modern);
    const stepUp = await this.legacyStepUp(req, principal, address, scanned);
    if (stepUp.refusal) return refuse(res, stepUp.refusal.code, stepUp.refusal);
    const sessionId = req.headers[SESSION_HEADER];
    if (typeof sessionId === 'string') return this.streamableExisting(req, res, address, principal, sessionId, scanned, stepUp.parsed);
    const parsed = stepUp.parsed ?? parseJsonRpcBody(scanned, headerValue(req, PROTOCOL_VERSION_HEADER));
    if (!parsed.ok) return refuse(res, parsed.refusal, parsed);
    if (!isInitializeRequest(parsed.messages)) return refuse(res, 'missing_session');
    const refusal = await this.newSessionRefusal(principal, address);
    if (refusal) return refuse(res, refusal.code, refusal);
    const slot = await this.parts.limits.acquireSession(principal, randomUUID());
    if (!slot.ok) return refuse(res, slot.refusal.code, slot.refusal);
    const { release } = slot;
    // The node that answers initialize owns the session; its id names this node.
    const session = await this.sessions.createStreamable({ principal, tenantSlug: address.tenantSlug, plugin: address.plugin, virtual: address.virtual }).catch(releasing(release));
    const transport = session.transport as WebStandardStreamableHTTPServerTransport;
    const response = await transport
      .handleRequest(webRequestOf(transportRequestOf(req)), { parsedBody: parsed.batch ? parsed.messages : parsed.messages[0] })
      .catch(releasing(release));
    // The SDK names the session only once it accepted the initialization.
    if (transport.sessionId !== undefined) this.parts.limits.sessionStarted(session, release);
    else void release();
    await writeWebResponse(response, res, this.streamOptions(session));
  }

  /**
   * The POST's era when it is not plainly legacy: a modern request, a modern refusal, or a body
   * refusal. Undefined sends it down the 2025 path untouched (a legacy POST costs no extra parse).
   */
  private modernPost(req: IncomingMessage, body: ScannedBody): ModernPost | undefined {
    const headers: ModernHeaders = {
      ...optional('protocolVersion', headerValue(req, PROTOCOL_VERSION_HEADER)),
      ...optional('mcpMethod', headerValue(req, MCP_METHOD_HEADER)),
      ...optional('mcpName', headerValue(req, MCP_NAME_HEADER)),
      ...optional('repeated', MIRRORED_HEADERS.find((name) => (req.headersDistinct[name]?.length ?? 0) > 1)),
    };
    if (!mayBeModern(body.text, headers)) return undefined;
    const parsed = parseJsonRpcBody(body, headers.protocolVersion);
    if (!parsed.ok) return { refusal: { code: parsed.refusal, ...(parsed.message !== undefined ? { message: parsed.message } : {}) } };
    const decision = classifyPost(parsed.messages, parsed.batch, headers);
    return decision.era === 'legacy' ? undefined : { decision, parsed, headers: req.headersDistinct };
  }

  /**
   * A modern request, answered here (no session, no forwarding), the request's id echoed: JSON,
   * or an event stream once the handler sends a notification for it (`ModernResponse`).
   */
  private async serveModern(req: IncomingMessage, res: ServerResponse, principal: Principal, address: EndpointAddress, post: ModernPost): Promise<void> {
    this.parts.telemetry.markStateless(res);
    if ('refusal' in post) return refuse(res, post.refusal.code, post.refusal);
    const { decision, parsed } = post;
    if (decision.era === 'refused') return writeJson(res, decision.refusal.status, modernErrorBody(decision.refusal));
    const draining = this.sessions.refusalForMessages(parsed.messages);
    if (draining) return refuse(res, draining.code, { ...draining, era: 'modern' });
    if (!(await this.endpointExists(principal, address))) return refuse(res, 'not_found', { era: 'modern' });
    const stepUp = await this.stepUpRefusal(req, principal, address, parsed.messages);
    if (stepUp) return refuse(res, stepUp.code, { ...stepUp, era: 'modern' });
    const { message } = decision;
    const mismatch = await this.paramHeaderRefusal(principal, address, message, post.headers);
    if (mismatch) return writeJson(res, mismatch.status, modernErrorBody(mismatch));
    // streamable-http: a notification the server accepts is 202 with no body.
    if (message.id === undefined) {
      res.writeHead(202).end();
      return;
    }
    if (message.method === LISTEN_METHOD) return this.parts.listen.serve(res, principal, address, { ...message, id: message.id });
    const busy = this.parts.requests.admitStateless(principal.tenantId);
    if (busy) return refuse(res, busy.code, { ...busy, era: 'modern' });
    // cancellation.mdx: a client that closes the request (JSON or its SSE response stream) cancels
    // it; the tool's signal aborts.
    const closed = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) closed.abort(new Error(CLIENT_CLOSED));
    };
    res.once('close', onClose);
    const response = new ModernResponse(res, {
      keepAliveMs: this.sessions.keepAliveMs,
      maxBufferedBytes: this.parts.maxBufferedBytes,
      onSlowReader: () => {
        this.parts.telemetry.streamCutSlowReader();
        closed.abort(new Error(CLIENT_STOPPED_READING));
      },
    });
    try {
      const answer = await this.sessions.stateless.answer({
        message: { ...message, id: message.id },
        principal,
        tenantSlug: address.tenantSlug,
        plugin: address.plugin,
        virtual: address.virtual,
        signal: closed.signal,
        bytesIn: parsed.sizes[0]!,
        notify: (notification) => response.notify(notification),
      });
      if (!closed.signal.aborted) response.answer(answer.status, serialisedAnswer(modernAnswerBody(answer.body)));
    } finally {
      this.parts.requests.statelessEnded(principal.tenantId);
    }
  }

  /**
   * A 2025 Streamable HTTP POST's step-up, decided before the session (or the node owning it) sees
   * the body. Only a narrowed OAuth token on the tenant-wide URL can need one; only then is the body
   * parsed here, and the parse is handed on so the session path does not parse it again (a body
   * that does not parse is refused there, as any other).
   */
  private async legacyStepUp(req: IncomingMessage, principal: Principal, address: EndpointAddress, body: ScannedBody): Promise<{ refusal?: Refusal; parsed?: ParsedBody }> {
    if (principal.kind !== 'oauth' || address.plugin !== undefined || address.virtual !== undefined || principal.plugins.length === 0) return {};
    const parsed = parseJsonRpcBody(body, headerValue(req, PROTOCOL_VERSION_HEADER));
    const refusal = parsed.ok ? await this.stepUpRefusal(req, principal, address, parsed.messages) : undefined;
    return refusal ? { refusal } : { parsed };
  }

  /**
   * 403 insufficient_scope when a tools/call names a plugin the token could be granted but was not
   * (`scopeStepUp`); the whole POST is refused, a batch included, so no call of it runs.
   */
  private async stepUpRefusal(req: IncomingMessage, principal: Principal, address: EndpointAddress, messages: ParsedMessages['messages']): Promise<Refusal | undefined> {
    // Other credentials never step up: no plugin lookup for them. A virtual server's tool names
    // are its own (no `{installation}__` to read a plugin from): no step-up there either.
    if (principal.kind !== 'oauth' || address.plugin !== undefined || address.virtual !== undefined) return undefined;
    const stepUp = scopeStepUp(messages, principal, address.plugin, await this.parts.tenantPlugins.enabledPlugins(principal.tenantId));
    if (!stepUp) return undefined;
    const named = stepUp.plugins.join(', ');
    const metadata = resourceMetadataUrl(publicBaseUrl(req, this.parts.publicUrl), address.path);
    const challenge = insufficientScope(metadata, stepUp.scopes, `This token is not granted plugin ${named}`);
    return { code: 'forbidden', message: `Forbidden: this token is not granted plugin ${named}`, headers: { 'www-authenticate': challenge } };
  }

  /**
   * streamable-http "Server Behavior for Custom Headers": a tools/call's `Mcp-Param-*` headers
   * checked against the inputSchema its tools/list shows (the catalog is cached per scope, and is
   * the one the stateless server answers from), before the call takes a slot. An unknown tool has
   * no declarations: the call is refused as unknown further on.
   */
  private async paramHeaderRefusal(principal: Principal, address: EndpointAddress, message: ModernMessage, headers: DistinctHeaders): Promise<ModernRefusal | undefined> {
    const name = message.params['name'];
    if (message.method !== 'tools/call' || message.id === undefined || typeof name !== 'string') return undefined;
    const catalog = await this.parts.tenantPlugins.catalogFor(principal.tenantId, catalogScopeOf(principal, address.plugin, address.virtual));
    const listed = catalog.toolList.tools.find((tool) => tool['name'] === name);
    return listed ? checkParamHeaders(listed['inputSchema'], message.params['arguments'], headers, message.id) : undefined;
  }

  /** `GET …/mcp` (server-initiated stream, resumable) and `DELETE …/mcp` (end the session). */
  async streamableSession(req: IncomingMessage, res: ServerResponse, principal: Principal, address: EndpointAddress): Promise<void> {
    // A DELETE is never limited: ending a session must stay possible for a client over its limit.
    const admitted = req.method === 'GET' ? await this.admitRequest(principal, 1, res) : undefined;
    if (admitted) return refuse(res, admitted.code, admitted);
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
    body: ScannedBody | undefined,
    /** The body already parsed (by the step-up check), when it was. */
    preParsed?: ParsedBody,
  ): Promise<void> {
    const owner = this.remoteOwner(ownerOfSessionId(sessionId));
    if (owner) return this.forward(owner, this.forwardedRequest('streamable-http', sessionId, principal, address, req, body?.text), res);
    let parsed: ParsedMessages | undefined;
    if (req.method === 'POST') {
      const result = preParsed ?? parseJsonRpcBody(body, headerValue(req, PROTOCOL_VERSION_HEADER));
      if (!result.ok) return refuse(res, result.refusal, result);
      parsed = result;
    }
    const { response, session } = await this.streamableResponse(sessionId, principal, address, transportRequestOf(req), parsed);
    await writeWebResponse(response, res, this.streamOptions(session));
  }

  /** Owner side of forwarding: the same checks and handling as a request that arrived here (its limits were counted there). */
  private async serveForwarded(forwarded: ForwardedRequest): Promise<Response> {
    let parsed: ParsedMessages | undefined;
    if (forwarded.request.method === 'POST') {
      const result = parseJsonRpcBody(forwarded.body, forwarded.request.headers[PROTOCOL_VERSION_HEADER]);
      if (!result.ok) return refusalResponse(result.refusal, result);
      parsed = result;
    }
    if (forwarded.transport === 'streamable-http') {
      return (await this.streamableResponse(forwarded.sessionId, forwarded.binding, forwarded, forwarded.request, parsed)).response;
    }
    const refusal = parsed ? await this.deliverSseMessage(forwarded.sessionId, forwarded.binding, forwarded, parsed, forwarded.request.headers) : { code: 'invalid_request' as const };
    if (refusal) return refusalResponse(refusal.code, refusal);
    return new Response(SSE_ACCEPTED.body, { status: SSE_ACCEPTED.status });
  }

  /** Feeds legacy-SSE messages into a session of this node; a refusal when it cannot. */
  private async deliverSseMessage(
    sessionId: string,
    caller: Caller,
    scope: Scope,
    parsed: ParsedMessages,
    headers: IncomingMessage['headers'],
  ): Promise<Refusal | undefined> {
    const session = this.boundSession(sessionId, caller, scope, 'sse');
    if (!session) return { code: 'session_not_found' };
    const ids = requestIds(parsed.messages);
    const refusal = this.takeRequests(session, parsed, ids);
    if (refusal) return refusal;
    const transport = session.transport as SSEServerTransport;
    try {
      for (const message of parsed.messages) await transport.handleMessage(message, { requestInfo: { headers } });
    } catch {
      this.parts.requests.forget(session, ids);
      return { code: 'invalid_request' };
    }
    return undefined;
  }

  /** A Streamable HTTP request (POST, GET, DELETE) to a session of this node, as a web Response. */
  private async streamableResponse(
    sessionId: string,
    caller: Caller,
    scope: Scope,
    request: TransportRequest,
    parsed: ParsedMessages | undefined,
  ): Promise<{ response: Response; session?: McpSession }> {
    const session = this.boundSession(sessionId, caller, scope, 'streamable-http');
    if (!session) return { response: refusalResponse('session_not_found') };
    const ids = parsed ? requestIds(parsed.messages) : [];
    if (parsed) {
      const refusal = this.takeRequests(session, parsed, ids);
      if (refusal) return { response: refusalResponse(refusal.code, refusal), session };
    }
    const transport = session.transport as WebStandardStreamableHTTPServerTransport;
    const parsedBody = parsed && (parsed.batch ? parsed.messages : parsed.messages[0]);
    const response = await transport.handleRequest(webRequestOf(request), { parsedBody });
    // Refused by the SDK (headers, protocol version): none of the requests will be answered.
    if (!response.ok) this.parts.requests.forget(session, ids);
    return { response, session };
  }

  /**
   * The session is taking these messages: refused as a whole if one of its request ids is
   * already in progress or the tenant is over its share of this node.
   */
  private takeRequests(session: McpSession, parsed: ParsedMessages, ids: (string | number)[]): Refusal | undefined {
    const draining = this.sessions.refusalForMessages(parsed.messages);
    if (draining) return draining;
    const refusal = this.parts.requests.admit(session, ids);
    if (refusal) return refusal;
    // Metering's bytes in: each request's size as read, never a re-serialisation.
    parsed.messages.forEach((message, i) => {
      if ('method' in message && 'id' in message) session.noteRequestBytes(message.id, parsed.sizes[i]!);
    });
    session.touch();
    return undefined;
  }

  /** Counts `count` messages against the caller's request limits; their RateLimit headers go on `res`. */
  private async admitRequest(principal: Principal, count: number, res: ServerResponse): Promise<Refusal | undefined> {
    const tracing = this.parts.tracing;
    const decision = tracing?.enabled
      ? await tracing.inSpan('admission', { attributes: { 'switchboard.messages': count } }, async (span) => {
          const decided = await this.parts.limits.admitRequest(principal, count);
          span?.setAttribute('switchboard.admission.outcome', decided.ok ? 'admitted' : decided.refusal.code);
          return decided;
        })
      : await this.parts.limits.admitRequest(principal, count);
    if (!decision.ok) return decision.refusal;
    if (decision.headers) for (const [name, value] of Object.entries(decision.headers)) res.setHeader(name, value);
    return undefined;
  }

  /**
   * A POST's messages counted against the limits where it lands, from the body's shape alone:
   * before any parse (a caller over its limit costs no JSON.parse), and before forwarding (the
   * owner parses it). The admitted body comes back scanned, so its parse here scans it no more.
   */
  private async admitBody(principal: Principal, body: unknown, res: ServerResponse): Promise<{ ok: true; body: ScannedBody } | { ok: false; refusal: Refusal }> {
    const scanned = scanJsonRpcBody(body);
    if (!scanned.ok) return { ok: false, refusal: { code: scanned.refusal, ...(scanned.message !== undefined ? { message: scanned.message } : {}) } };
    const refusal = await this.admitRequest(principal, scanned.count, res);
    return refusal ? { ok: false, refusal } : { ok: true, body: scanned };
  }

  /** Bounds and keep-alive of an answer stream; a client that stops reading loses its session. */
  private streamOptions(session: McpSession | undefined): StreamOptions {
    return {
      keepAliveMs: this.sessions.keepAliveMs,
      maxBufferedBytes: this.parts.maxBufferedBytes,
      ...(session ? { onSlowReader: () => this.parts.requests.closeSlowReader(session) } : {}),
    };
  }

  /** Hands a request to the session's owner node; counted as a forwarded message and timed. */
  private async forward(owner: string, forwarded: ForwardedRequest, res: ServerResponse): Promise<void> {
    this.parts.telemetry.markForwarded(res);
    const started = performance.now();
    await this.forwarder!.forward(owner, forwarded, res);
    // A GET stream lasts as long as the client keeps it open: only request–answer exchanges are timed.
    if (forwarded.request.method !== 'GET') this.parts.telemetry.forwardFinished((performance.now() - started) / 1000);
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
      // Identity and grant only: the owner compares them with the session's binding.
      binding: {
        tenantId: principal.tenantId,
        keyId: principal.keyId,
        plugins: principal.plugins,
        ...(principal.subject !== undefined ? { subject: principal.subject } : {}),
      },
      tenantSlug: address.tenantSlug,
      ...(address.plugin !== undefined ? { plugin: address.plugin } : {}),
      ...(address.virtual !== undefined ? { virtual: address.virtual } : {}),
      request: transportRequestOf(req),
      // A non-JSON body is not forwarded; the owner then answers 415 as it would locally.
      ...(typeof body === 'string' ? { body } : {}),
    };
  }

  /**
   * The session, if it exists on this node, was opened through this endpoint, and belongs to
   * this credential with a grant that covers it. Every other case looks the same to the caller: not found.
   */
  private boundSession(id: string, caller: Caller, scope: Scope, kind: TransportKind): McpSession | undefined {
    const session = this.sessions.registry.get(id);
    if (!session || session.transportKind !== kind || !sameBinding(session.binding, caller)) return undefined;
    if (session.tenantSlug !== scope.tenantSlug || session.scope.plugin !== scope.plugin || session.scope.virtual !== scope.virtual) return undefined;
    return session;
  }

  private async newSessionRefusal(principal: Principal, address: EndpointAddress): Promise<Refusal | undefined> {
    const nodeRefusal = this.sessions.refusalForNewSession();
    if (nodeRefusal) return { code: nodeRefusal, headers: { 'retry-after': '1' } };
    if (!(await this.endpointExists(principal, address))) return { code: 'not_found' };
    return undefined;
  }

  /** An installation's URL needs the installation enabled, a virtual server's URL the server; the tenant-wide URL always exists. */
  private async endpointExists(principal: Principal, address: EndpointAddress): Promise<boolean> {
    if (address.plugin !== undefined) return this.parts.tenantPlugins.isEnabled(principal.tenantId, address.plugin);
    if (address.virtual !== undefined) return this.parts.tenantPlugins.hasVirtualServer(principal.tenantId, address.virtual);
    return true;
  }
}

/** What `modernPost` found: the era decision with the parsed body and the headers, or a refusal of the body. */
type ModernPost = { decision: Exclude<EraDecision, { era: 'legacy' }>; parsed: ParsedMessages; headers: DistinctHeaders } | { refusal: Refusal };

/** A result JSON cannot carry (a cycle, a BigInt) is the request's internal error, not a 500 without its id. */
function serialisedAnswer(body: { id: string | number }): string {
  try {
    return JSON.stringify(body);
  } catch {
    return JSON.stringify({ jsonrpc: '2.0', id: body.id, error: { code: JSON_RPC_INTERNAL_ERROR, message: 'Internal error: the result could not be serialised' } });
  }
}

function writeJson(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(body);
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}
