import type { ServerResponse } from 'node:http';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { LogLevel } from '@switchboard/plugin-sdk';
import type { CredentialBinding } from '../auth/credential-binding';
import type { CatalogScope } from '../tenants/tenant-plugins';
import type { SessionCatalog } from '../catalog/session-catalog';

export type TransportKind = 'sse' | 'streamable-http';

/**
 * Told of a session's traffic (see `McpSession.watch`): each client request from the moment it is
 * taken until its answer is sent, and each message sent, so the node can count requests in
 * progress (drain, each tenant's share) and watch for clients that stop reading.
 */
export interface SessionTraffic {
  requestStarted(session: McpSession): void;
  requestEnded(session: McpSession): void;
  messageSent(session: McpSession): void;
}

export interface SessionInit {
  id: string;
  transportKind: TransportKind;
  binding: CredentialBinding;
  tenantSlug: string;
  scope: CatalogScope;
  catalog: SessionCatalog;
  /** Legacy SSE: the open event stream, for keep-alive comments. */
  stream?: ServerResponse;
}

/**
 * One MCP session on this node: its credential binding, what it can see, its MCP state (log
 * level, resource subscriptions) and its SDK server and transport. Kept small on purpose: the
 * benchmark holds 10,000 idle ones.
 */
export class McpSession {
  readonly id: string;
  readonly transportKind: TransportKind;
  readonly binding: CredentialBinding;
  readonly tenantSlug: string;
  readonly scope: CatalogScope;
  readonly openedAt = Date.now();
  readonly stream: ServerResponse | undefined;
  lastActivityAt = this.openedAt;
  catalog: SessionCatalog;
  /** The level the client asked for with logging/setLevel; undefined = send every level. */
  logLevel: LogLevel | undefined;
  /** Resource URIs the client subscribed to; created on first subscribe. */
  subscriptions: Set<string> | undefined;
  server!: Server;
  transport!: Transport;
  /** Aborted when the session ends, so running handlers see the disconnect. */
  private readonly lifetime = new AbortController();
  /** Aborts of running handlers (`runAbortable`): a Set entry per call is cheaper than a listener each. */
  private running: Set<(reason: unknown) => void> | undefined;
  /** Client requests received and not yet answered (see `watch`); created on the first one. */
  private unanswered: Set<RequestId> | undefined;
  /** Byte sizes of request messages as the endpoint read them, until the handler takes them. */
  private requestBytes: Map<RequestId, number> | undefined;
  private traffic: SessionTraffic | undefined;
  private closing: Promise<void> | undefined;
  private readonly onClosed: (session: McpSession) => void;

  constructor(init: SessionInit, onClosed: (session: McpSession) => void) {
    this.id = init.id;
    this.transportKind = init.transportKind;
    this.binding = init.binding;
    this.tenantSlug = init.tenantSlug;
    this.scope = init.scope;
    this.catalog = init.catalog;
    this.stream = init.stream;
    this.onClosed = onClosed;
  }

  get signal(): AbortSignal {
    return this.lifetime.signal;
  }

  /** Calls `abort` with the session's end reason when it ends, unless `offClose` came first. */
  onClose(abort: (reason: unknown) => void): void {
    (this.running ??= new Set()).add(abort);
  }

  offClose(abort: (reason: unknown) => void): void {
    this.running?.delete(abort);
  }

  touch(): void {
    this.lastActivityAt = Date.now();
  }

  /** Requests of this session still waiting for their answer. */
  get unansweredCount(): number {
    return this.unanswered?.size ?? 0;
  }

  /** The endpoint records the size of a request message it read, for the handler's usage record. */
  noteRequestBytes(id: RequestId, bytes: number): void {
    (this.requestBytes ??= new Map()).set(id, bytes);
  }

  /** The size noted for request `id`, once; undefined when none was noted. */
  takeRequestBytes(id: RequestId): number | undefined {
    const bytes = this.requestBytes?.get(id);
    if (bytes !== undefined) this.requestBytes!.delete(id);
    return bytes;
  }

  /** Whether request `id` of this session is waiting for its answer. */
  isUnanswered(id: RequestId): boolean {
    return this.unanswered?.has(id) ?? false;
  }

  /** Takes requests the endpoint admitted, before the transport sees them (a duplicate check holds from here). */
  startRequests(ids: readonly RequestId[]): void {
    for (const id of ids) this.requestArrived(id);
  }

  /** Requests that will get no answer through the transport (it refused the POST that carried them). */
  endRequests(ids: readonly RequestId[]): void {
    for (const id of ids) this.requestAnswered(id);
  }

  /**
   * Follows the connected transport's traffic: a client request counts as unanswered (here and in
   * `traffic`) from its arrival until its response is sent, so a shutdown can wait for answers
   * rather than for handlers; every message sent is reported. Call once, after
   * `server.connect(transport)`.
   */
  watch(traffic: SessionTraffic): void {
    this.traffic = traffic;
    const transport = this.transport;
    const deliver = transport.onmessage;
    transport.onmessage = (message, extra) => {
      if (isRequest(message)) this.requestArrived(message.id);
      // The SDK never answers a request the client cancelled (specification, utilities/cancellation).
      else if ('method' in message && message.method === 'notifications/cancelled') this.requestAnswered(message.params?.['requestId'] as RequestId);
      deliver?.(message, extra);
    };
    const send = transport.send.bind(transport);
    transport.send = async (message, options) => {
      try {
        await send(message, options);
      } finally {
        if (isResponse(message)) this.requestAnswered(message.id);
        traffic.messageSent(this);
      }
    };
  }

  /** Aborts the running plugin handlers with `reason` (their calls then answer with it); the session stays open. */
  abortCalls(reason: unknown): void {
    if (this.running) for (const abort of [...this.running]) abort(reason);
  }

  /**
   * Ends the session once: aborts its handlers, closes server and transport (ending its streams).
   * With `answer`, requests still unanswered get it as their JSON-RPC error first.
   */
  close(answer?: { code: number; message: string }): Promise<void> {
    this.closing ??= (async () => {
      // Before the transport closes: after that, nothing reaches the client.
      if (answer && this.unanswered) {
        const error = { code: answer.code, message: answer.message };
        await Promise.all([...this.unanswered].map((id) => this.transport.send({ jsonrpc: '2.0', id, error }).catch(() => undefined)));
      }
      const reason = new Error('session closed');
      this.lifetime.abort(reason);
      this.abortCalls(reason);
      this.onClosed(this);
      // Server.close() closes the transport, which ends the SSE response or GET stream; the SDK
      // then drops the answers of handlers still running.
      await this.server?.close().catch(() => undefined);
      for (const id of [...(this.unanswered ?? [])]) this.requestAnswered(id);
      this.requestBytes = undefined;
    })();
    return this.closing;
  }

  private requestArrived(id: RequestId): void {
    const unanswered = (this.unanswered ??= new Set());
    if (unanswered.has(id)) return;
    unanswered.add(id);
    this.traffic?.requestStarted(this);
  }

  private requestAnswered(id: RequestId): void {
    this.requestBytes?.delete(id);
    if (!this.unanswered?.delete(id)) return;
    this.traffic?.requestEnded(this);
  }
}

// Shape checks only: the endpoint already checked the envelope, and the SDK's zod guards cost a
// parse per message.
function isRequest(message: JSONRPCMessage): message is JSONRPCMessage & { id: RequestId; method: string } {
  return 'method' in message && 'id' in message && message.id !== undefined;
}

function isResponse(message: JSONRPCMessage): message is JSONRPCMessage & { id: RequestId } {
  return !('method' in message) && 'id' in message && message.id !== undefined && message.id !== null;
}
