import type { RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { Refusal } from '../protocol/jsonrpc-errors';
import { InFlightCalls } from './in-flight-calls';
import type { McpSession, SessionTraffic } from './mcp-session';

export interface RequestTrackerOptions {
  maxInProgressPerTenant: number;
  maxBufferedBytes: number;
  /** Counts sessions closed because their client stopped reading. */
  onSlowReaderClosed: () => void;
}

/**
 * The node's view of the JSON-RPC requests its sessions are working on, from the POST that brought
 * them to the answer the SDK sends (each session keeps its own unanswered ids and reports here,
 * `McpSession.watch`). It refuses what would hurt others before a handler runs: an id already in
 * progress on the session (the SDK would route both answers to one stream and leave the other
 * POST open for ever), and a tenant's requests beyond its share of the node. It counts the
 * node's requests for a graceful drain, and after each message sent checks the legacy SSE
 * stream's unread bytes (backpressure).
 */
export class RequestTracker implements SessionTraffic {
  private readonly perTenant = new Map<string, number>();
  private readonly node = new InFlightCalls();

  constructor(private readonly options: RequestTrackerOptions) {}

  /** Takes the requests of one POST into `session`, or refuses the whole POST. */
  admit(session: McpSession, ids: readonly RequestId[]): Refusal | undefined {
    if (ids.length === 0) return undefined;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (session.isUnanswered(id) || ids.indexOf(id) !== i) {
        return { code: 'invalid_request', message: `Invalid Request: request id ${JSON.stringify(id)} is already in progress on this session` };
      }
    }
    if (this.inProgressOf(session.binding.tenantId) + ids.length > this.options.maxInProgressPerTenant) {
      return { code: 'tenant_busy', headers: { 'retry-after': '1' } };
    }
    session.startRequests(ids);
    return undefined;
  }

  /**
   * Takes one stateless (2026-07-28) request of `tenantId`, or refuses it for the tenant's share
   * of the node; `statelessEnded` gives it back once answered. Counted like a session's, so the
   * drain waits for it.
   */
  admitStateless(tenantId: string): Refusal | undefined {
    if (this.inProgressOf(tenantId) + 1 > this.options.maxInProgressPerTenant) return { code: 'tenant_busy', headers: { 'retry-after': '1' } };
    this.started(tenantId);
    return undefined;
  }

  statelessEnded(tenantId: string): void {
    this.ended(tenantId);
  }

  /** Requests the transport refused after `admit` took them: they will get no answer through it. */
  forget(session: McpSession, ids: readonly RequestId[]): void {
    session.endRequests(ids);
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

  /** Requests in progress for a tenant on this node. */
  inProgressOf(tenantId: string): number {
    return this.perTenant.get(tenantId) ?? 0;
  }

  /** Requests in progress on this node. */
  get inProgress(): number {
    return this.node.size;
  }

  /** Resolves when no request is in progress on this node, or after `timeoutMs`. */
  drained(timeoutMs: number): Promise<void> {
    return this.node.drained(timeoutMs);
  }

  requestStarted(session: McpSession): void {
    this.started(session.binding.tenantId);
  }

  requestEnded(session: McpSession): void {
    this.ended(session.binding.tenantId);
  }

  private started(tenantId: string): void {
    this.perTenant.set(tenantId, this.inProgressOf(tenantId) + 1);
    this.node.requestStarted();
  }

  private ended(tenantId: string): void {
    const left = this.inProgressOf(tenantId) - 1;
    if (left > 0) this.perTenant.set(tenantId, left);
    else this.perTenant.delete(tenantId);
    this.node.requestEnded();
  }

  messageSent(session: McpSession): void {
    // Legacy SSE writes each message synchronously into the stream: what is still unread is here.
    const stream = session.stream;
    if (stream && stream.writableLength > this.options.maxBufferedBytes) this.closeSlowReader(session);
  }
}
