import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Logger } from '@switchboard/logger';
import type { Caller } from '../auth/credential-binding';
import { refuse, refusalResponse } from '../http/jsonrpc-errors';
import { headersObject, isEventStream, keepEventStreamAlive, type TransportRequest } from '../http/web-exchange';
import type { TransportKind } from '../sessions/mcp-session';
import { ClusterLinkDownError, type NodeLink } from './node-link';

/** While tunnels are open, peers are checked this often; a killed peer's tunnels end within it. */
export const TUNNEL_CHECK_INTERVAL_MS = 1_000;
/**
 * How long the owner holds the start of a POST's answer (head, priming event) hoping the whole
 * answer follows, so a typical tool call crosses back as ONE message. The final part is never
 * held: only events of calls that outlast this (progress of a slow tool) arrive this much later.
 * A GET stream's parts go at once (setImmediate), since its events come one at a time anyway.
 */
export const POST_COALESCE_MS = 10;

/** A request for a session held by another node, as the node that received it hands it over. */
export interface ForwardedRequest {
  transport: TransportKind;
  sessionId: string;
  /** The caller's credential, authenticated by the node the request reached. */
  binding: Caller;
  /** The endpoint the request addressed; the session must have been opened through the same one. */
  tenantSlug: string;
  plugin?: string;
  request: TransportRequest;
  /** POST body, as received. */
  body?: string;
}

/** Runs a forwarded request on the owner node; the Response streams back to the caller's node. */
export type ForwardedRequestHandler = (forwarded: ForwardedRequest, signal: AbortSignal) => Promise<Response>;

interface ResponseHead {
  status: number;
  headers: Record<string, string>;
}

/** What travels between nodes (inside the signed envelope; the sender is the envelope's node). */
type WireMessage =
  | { t: 'req'; id: string; fwd: ForwardedRequest }
  | { t: 'cancel'; id: string }
  // One reply can carry the head, body text and end together: a typical tool call is one message.
  | { t: 'res'; id: string; head?: ResponseHead; body?: string; end?: true };

/** A forwarded request waiting on this node for the owner's answer. */
interface OutboundTunnel {
  owner: string;
  res: ServerResponse;
  headTimer: NodeJS.Timeout | undefined;
  headReceived: boolean;
}

/** A forwarded request this node (the owner) is answering. */
interface InboundTunnel {
  peer: string;
  abort: AbortController;
  reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
}

/**
 * Forwarding over Redis pub/sub, one channel per node: one PUBLISH to the owner, one (usually)
 * back, no lookups. Every failure mode answers the client: nobody listening → 404 (the owner is
 * gone, so is the session), no answer in time → 504, Redis away → 503, owner dies mid-stream →
 * the stream ends.
 */
export class ClusterForwarder {
  /**
   * Correlation ids are unique per process life, so a node restarted under the same NODE_ID
   * never receives answers meant for its previous life (an owner may still be streaming them).
   */
  private readonly life = randomBytes(4).toString('hex');
  private nextId = 1;
  private readonly outbound = new Map<string, OutboundTunnel>();
  private readonly inbound = new Map<string, InboundTunnel>();
  private watchdog: NodeJS.Timeout | undefined;
  private handler: ForwardedRequestHandler | undefined;

  constructor(
    private readonly link: NodeLink,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
    /** Keep-alive comments on relayed event streams; the client's socket is on this node. */
    private readonly keepAliveMs?: number,
  ) {
    link.onMessage((payload, sender) => this.receive(payload as WireMessage, sender));
    link.onStatus((ready) => {
      if (!ready) this.failAll();
    });
  }

  get nodeId(): string {
    return this.link.nodeId;
  }

  /** Forwarded requests for sessions of this node go here (the MCP endpoints). */
  serve(handler: ForwardedRequestHandler): void {
    this.handler = handler;
  }

  /** Sends the request to the owner and relays its answer to `res`; resolves when `res` is done. */
  async forward(owner: string, forwarded: ForwardedRequest, res: ServerResponse): Promise<void> {
    const id = `${this.life}.${this.nextId++}`;
    const done = new Promise<void>((resolve) => res.once('close', resolve));
    const tunnel: OutboundTunnel = { owner, res, headTimer: undefined, headReceived: false };
    this.outbound.set(id, tunnel);
    res.once('close', () => {
      if (!this.outbound.delete(id)) return;
      clearTimeout(tunnel.headTimer);
      // The client went away before the end: the owner stops (e.g. releases a GET stream).
      void this.link.send(owner, { t: 'cancel', id } satisfies WireMessage).catch(() => undefined);
    });
    // Not listening means the owner's answer could not reach us: fail now rather than time out.
    if (!this.link.ready) {
      this.finish(id, 'cluster_unavailable');
      return done;
    }
    let receivers: number;
    try {
      receivers = await this.link.send(owner, { t: 'req', id, fwd: forwarded } satisfies WireMessage);
    } catch (error) {
      this.finish(id, error instanceof ClusterLinkDownError ? 'cluster_unavailable' : 'internal_error');
      return done;
    }
    if (receivers === 0) {
      this.finish(id, 'session_not_found');
      return done;
    }
    if (this.outbound.has(id)) {
      tunnel.headTimer = setTimeout(() => {
        this.logger.warn({ owner, sessionId: forwarded.sessionId }, 'owner node did not answer a forwarded request in time');
        this.finish(id, 'forward_timeout');
      }, this.timeoutMs);
      this.ensureWatchdog();
    }
    return done;
  }

  close(): void {
    clearInterval(this.watchdog);
    this.failAll();
  }

  private receive(message: WireMessage, sender: string): void {
    switch (message.t) {
      case 'res':
        return this.relay(message);
      case 'req':
        void this.answer(message.id, message.fwd, sender);
        return;
      case 'cancel':
        return this.cancelInbound(`${sender}:${message.id}`);
    }
  }

  /** Receiving node: writes the owner's answer to the client. */
  private relay(message: Extract<WireMessage, { t: 'res' }>): void {
    const tunnel = this.outbound.get(message.id);
    if (!tunnel) return;
    const { res } = tunnel;
    if (message.head) {
      tunnel.headReceived = true;
      clearTimeout(tunnel.headTimer);
      res.writeHead(message.head.status, message.head.headers);
      if (isEventStream(message.head.headers) && !message.end) {
        res.flushHeaders();
        if (this.keepAliveMs) keepEventStreamAlive(res, this.keepAliveMs);
      }
    }
    if (message.end) {
      this.outbound.delete(message.id);
      // Body and end in one write: a typical answer leaves in one packet.
      res.end(message.body);
      return;
    }
    if (message.body) res.write(message.body);
  }

  /** Owner node: runs the request and streams the Response back, coalescing ready chunks. */
  private async answer(id: string, forwarded: ForwardedRequest, peer: string): Promise<void> {
    const key = `${peer}:${id}`;
    const tunnel: InboundTunnel = { peer, abort: new AbortController(), reader: undefined };
    this.inbound.set(key, tunnel);
    this.ensureWatchdog();
    let response: Response;
    try {
      response = this.handler ? await this.handler(forwarded, tunnel.abort.signal) : refusalResponse('session_not_found');
    } catch (error) {
      this.logger.error({ err: error }, 'forwarded request failed');
      response = refusalResponse('internal_error');
    }
    let head: ResponseHead | undefined = { status: response.status, headers: headersObject(response.headers) };
    let body = '';
    let scheduled: (() => void) | undefined;
    const decoder = new TextDecoder();
    const schedule = () => {
      if (forwarded.request.method === 'POST') {
        const timer = setTimeout(() => void flush(false), POST_COALESCE_MS);
        return () => clearTimeout(timer);
      }
      const immediate = setImmediate(() => void flush(false));
      return () => clearImmediate(immediate);
    };
    const flush = async (end: boolean) => {
      scheduled = undefined;
      if (!end && !head && !body) return;
      const message: WireMessage = { t: 'res', id, ...(head ? { head } : {}), ...(body ? { body } : {}), ...(end ? { end: true } : {}) };
      head = undefined;
      body = '';
      const delivered = await this.link.send(peer, message).catch(() => 0);
      // Nobody reads this tunnel any more (the caller's node died): stop producing for it.
      if (delivered === 0 && !end) this.cancelInbound(key);
    };
    if (tunnel.abort.signal.aborted) await response.body?.cancel().catch(() => undefined);
    const reader = tunnel.abort.signal.aborted ? undefined : response.body?.getReader();
    tunnel.reader = reader;
    try {
      while (reader) {
        // Flush what is ready after a short hold (see POST_COALESCE_MS); the end flushes at once,
        // so head, events and end of a quick call go out as one message.
        scheduled ??= schedule();
        const { value, done } = await reader.read();
        if (done) break;
        body += decoder.decode(value, { stream: true });
      }
    } catch {
      // Cancelled: the caller went away.
    } finally {
      scheduled?.();
      this.inbound.delete(key);
      await flush(true);
    }
  }

  private cancelInbound(key: string): void {
    const tunnel = this.inbound.get(key);
    if (!tunnel) return;
    this.inbound.delete(key);
    tunnel.abort.abort();
    void tunnel.reader?.cancel().catch(() => undefined);
  }

  /** Ends an outbound tunnel: a refusal if the client has no answer yet, else the end of its stream. */
  private finish(id: string, refusal: Parameters<typeof refuse>[1]): void {
    const tunnel = this.outbound.get(id);
    if (!tunnel) return;
    this.outbound.delete(id);
    clearTimeout(tunnel.headTimer);
    if (tunnel.headReceived) tunnel.res.end();
    else refuse(tunnel.res, refusal);
  }

  private failAll(): void {
    for (const id of [...this.outbound.keys()]) this.finish(id, 'cluster_unavailable');
    for (const key of [...this.inbound.keys()]) this.cancelInbound(key);
  }

  /** While tunnels are open, ends those whose peer stopped listening (killed, partitioned). */
  private ensureWatchdog(): void {
    if (this.watchdog) return;
    this.watchdog = setInterval(() => void this.checkPeers(), TUNNEL_CHECK_INTERVAL_MS);
    this.watchdog.unref();
  }

  private async checkPeers(): Promise<void> {
    if (this.outbound.size === 0 && this.inbound.size === 0) {
      clearInterval(this.watchdog);
      this.watchdog = undefined;
      return;
    }
    const peers = new Set<string>();
    for (const tunnel of this.outbound.values()) peers.add(tunnel.owner);
    for (const tunnel of this.inbound.values()) peers.add(tunnel.peer);
    let alive: Set<string>;
    try {
      alive = await this.link.listening([...peers]);
    } catch {
      return;
    }
    for (const [id, tunnel] of [...this.outbound]) {
      if (!alive.has(tunnel.owner)) this.finish(id, 'session_not_found');
    }
    for (const [key, tunnel] of [...this.inbound]) {
      if (!alive.has(tunnel.peer)) this.cancelInbound(key);
    }
  }
}
