import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { Refusal } from '../protocol/jsonrpc-errors';
import type { McpSession } from './mcp-session';

export interface RequestTrackerOptions {
  maxInProgressPerTenant: number;
  maxBufferedBytes: number;
  /** Counts sessions closed because their client stopped reading. */
  onSlowReaderClosed: () => void;
}

/**
 * The JSON-RPC requests this node's sessions are working on, from the POST that brought them to
 * the answer the SDK sends. It refuses what would hurt others before a handler runs: an id
 * already in progress on the session (the SDK would route both answers to one stream and leave
 * the other POST open for ever), and a tenant's requests beyond its share of the node. It also
 * watches the legacy SSE stream's unread bytes after each answer (backpressure).
 */
export class RequestTracker {
  private readonly inProgress = new Map<McpSession, Set<RequestId>>();
  private readonly perTenant = new Map<string, number>();

  constructor(private readonly options: RequestTrackerOptions) {}

  /** Takes the requests of one POST into `session`, or refuses the whole POST. */
  admit(session: McpSession, ids: readonly RequestId[]): Refusal | undefined {
    if (ids.length === 0) return undefined;
    const pending = this.pendingOf(session);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (pending.has(id) || ids.indexOf(id) !== i) {
        return { code: 'invalid_request', message: `Invalid Request: request id ${JSON.stringify(id)} is already in progress on this session` };
      }
    }
    const tenantId = session.binding.tenantId;
    const busy = this.perTenant.get(tenantId) ?? 0;
    if (busy + ids.length > this.options.maxInProgressPerTenant) return { code: 'tenant_busy', headers: { 'retry-after': '1' } };
    for (const id of ids) pending.add(id);
    this.perTenant.set(tenantId, busy + ids.length);
    return undefined;
  }

  /** Messages the client sent besides requests: a cancellation ends its request (the SDK sends no answer then). */
  observe(session: McpSession, messages: readonly JSONRPCMessage[]): void {
    for (const message of messages) {
      if ('method' in message && message.method === 'notifications/cancelled' && !('id' in message)) {
        const requestId = (message.params as { requestId?: unknown } | undefined)?.requestId;
        if (typeof requestId === 'string' || typeof requestId === 'number') this.settle(session, requestId);
      }
    }
  }

  /** Requests the transport refused after `admit` took them: they will get no answer through it. */
  forget(session: McpSession, ids: readonly RequestId[]): void {
    for (const id of ids) this.settle(session, id);
  }

  /**
   * The session's client stopped reading while answers piled up: its stream is destroyed (the
   * unread bytes are freed with the socket) and the session closed.
   */
  closeSlowReader(session: McpSession): void {
    if (session.signal.aborted) return;
    this.options.onSlowReaderClosed();
    session.stream?.destroy();
    void session.close();
  }

  /** Requests in progress for a tenant on this node (for tests and metrics). */
  inProgressOf(tenantId: string): number {
    return this.perTenant.get(tenantId) ?? 0;
  }

  private pendingOf(session: McpSession): Set<RequestId> {
    let pending = this.inProgress.get(session);
    if (pending) return pending;
    pending = new Set();
    this.inProgress.set(session, pending);
    this.watch(session);
    return pending;
  }

  /**
   * Once per session, on its first request: answers leaving through the transport settle their
   * request, and the session's end settles all of them.
   */
  private watch(session: McpSession): void {
    const transport = session.transport;
    const send = transport.send.bind(transport);
    transport.send = async (message, options) => {
      if (!('method' in message) && 'id' in message && message.id !== undefined) this.settle(session, message.id);
      await send(message, options);
      // Legacy SSE writes the answer synchronously into the stream: what is still unread is here.
      const stream = session.stream;
      if (stream && stream.writableLength > this.options.maxBufferedBytes) this.closeSlowReader(session);
    };
    const ended = () => {
      const pending = this.inProgress.get(session);
      this.inProgress.delete(session);
      if (pending) this.releaseTenant(session.binding.tenantId, pending.size);
    };
    if (session.signal.aborted) ended();
    else session.signal.addEventListener('abort', ended, { once: true });
  }

  private settle(session: McpSession, id: RequestId): void {
    if (this.inProgress.get(session)?.delete(id)) this.releaseTenant(session.binding.tenantId, 1);
  }

  private releaseTenant(tenantId: string, count: number): void {
    const left = (this.perTenant.get(tenantId) ?? 0) - count;
    if (left > 0) this.perTenant.set(tenantId, left);
    else this.perTenant.delete(tenantId);
  }
}
