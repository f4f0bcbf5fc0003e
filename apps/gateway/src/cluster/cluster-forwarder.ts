import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Logger } from '@switchboard/logger';
import type { Caller } from '../auth/credential-binding';
import { refuse, refusalFor, refusalResponse, type HttpRefusalCode } from '../protocol/jsonrpc-errors';
import { headersObject, isEventStream, keepEventStreamAlive, type TransportRequest } from '../protocol/web-exchange';
import type { TransportKind } from '../sessions/mcp-session';
import { ClusterLinkDownError, type NodeLink } from './node-link';
import { PendingAnswers } from './pending-answers';
import { extractTraceContext, SpanKind, Tracing, type Span, type TraceCarrier } from '@switchboard/tracing';

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
  virtual?: string;
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
  // `tc`: the sender's forward span, so the owner's work joins the caller's trace (tracing on only).
  | { t: 'req'; id: string; fwd: ForwardedRequest; tc?: TraceCarrier }
  | { t: 'cancel'; id: string }
  // One reply can carry the head, body text and end together: a typical tool call is one message.
  | { t: 'res'; id: string; head?: ResponseHead; body?: string; end?: true };

/** What the forwarder needs of the node's link (a fake in unit specs). */
export type ForwarderLink = Pick<NodeLink, 'nodeId' | 'ready' | 'onMessage' | 'onStatus' | 'send' | 'listening'>;

/** A forwarded request waiting on this node for the owner's answer. */
interface OutboundTunnel {
  owner: string;
  res: ServerResponse;
  /** Armed before the request leaves, so an answer that beats send() still clears it. */
  headTimer: NodeJS.Timeout | undefined;
  /**
   * `sending` until PUBLISH answers, `delivered` once the owner heard the request, `answering`
   * once its answer's head is written here. From `sending` on, a POST may run on the owner.
   */
  stage: 'sending' | 'delivered' | 'answering';
  /** POST body, if the request is a POST: a failure after hand-over must not claim it did not run. */
  post: { body: string | undefined } | undefined;
  /** A POST answered as an event stream that outlasts its first message. */
  answers: PendingAnswers | undefined;
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
 * gone, so is the session), no answer in time → 504, Redis away before the request left → 503.
 * Once a POST may have reached the owner, a failure never claims it did not run: Redis or the
 * owner gone → 502 `outcome_unknown`, or, mid-stream, that error for each request the stream
 * still owes, then the end.
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
    private readonly link: ForwarderLink,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
    /**
     * Relayed event streams (the client's socket is on this node): keep-alive comments, and the
     * unread bytes a client may leave before its relayed answer is cut.
     */
    private readonly streams: { keepAliveMs?: number; maxBufferedBytes?: number } = {},
    /** OpenTelemetry: a client span per forwarded request here, a server span on the owner. */
    private readonly tracing: Tracing = Tracing.disabled(),
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
    const post = forwarded.request.method === 'POST' ? { body: forwarded.body } : undefined;
    const tunnel: OutboundTunnel = { owner, res, headTimer: undefined, stage: 'sending', post, answers: undefined };
    this.outbound.set(id, tunnel);
    const span = this.tracing.enabled ? this.forwardSpan(owner, forwarded, res) : undefined;
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
    // Armed before sending: the owner's head can arrive before send() resolves, and must find
    // the timer there to clear.
    tunnel.headTimer = setTimeout(() => {
      this.logger.warn({ owner, sessionId: forwarded.sessionId }, 'owner node did not answer a forwarded request in time');
      this.finish(id, 'forward_timeout');
    }, this.timeoutMs);
    let receivers: number;
    try {
      const tc = span && this.tracing.carrier(span);
      receivers = await this.link.send(owner, { t: 'req', id, fwd: forwarded, ...(tc ? { tc } : {}) } satisfies WireMessage);
    } catch (error) {
      // Refused before publishing: the owner never saw it. Otherwise PUBLISH may have reached it.
      this.finish(id, error instanceof ClusterLinkDownError ? 'cluster_unavailable' : this.afterHandOver(tunnel, 'internal_error'));
      return done;
    }
    if (receivers === 0) {
      this.finish(id, 'session_not_found');
      return done;
    }
    if (tunnel.stage === 'sending') tunnel.stage = 'delivered';
    if (this.outbound.has(id)) this.ensureWatchdog();
    return done;
  }

  /** The sender's client span of a forwarded request: it ends when the client's response does. */
  private forwardSpan(owner: string, forwarded: ForwardedRequest, res: ServerResponse): Span | undefined {
    const span = this.tracing.startSpan('forward', {
      kind: SpanKind.CLIENT,
      attributes: { 'switchboard.owner_node': owner, 'switchboard.transport': forwarded.transport, 'http.request.method': forwarded.request.method },
    });
    res.once('close', () => {
      span?.setAttribute('http.response.status_code', res.statusCode);
      span?.end();
    });
    return span;
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
        void this.answer(message.id, message.fwd, sender, message.tc);
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
      tunnel.stage = 'answering';
      clearTimeout(tunnel.headTimer);
      res.writeHead(message.head.status, message.head.headers);
      if (isEventStream(message.head.headers) && !message.end) {
        res.flushHeaders();
        if (this.streams.keepAliveMs) keepEventStreamAlive(res, this.streams.keepAliveMs);
        // Only answers that outlast their first message are watched: a quick call costs nothing.
        if (tunnel.post) tunnel.answers = new PendingAnswers(tunnel.post.body);
      }
    }
    if (message.end) {
      this.outbound.delete(message.id);
      // Body and end in one write: a typical answer leaves in one packet.
      res.end(message.body);
      return;
    }
    if (message.body) {
      tunnel.answers?.observe(message.body);
      res.write(message.body);
      // A client that stopped reading: drop its socket (and with it the unread bytes); the close
      // handler tells the owner to stop.
      if (res.writableLength > (this.streams.maxBufferedBytes ?? Infinity)) res.destroy();
    }
  }

  /** Owner node: runs the request and streams the Response back, coalescing ready chunks. */
  private async answer(id: string, forwarded: ForwardedRequest, peer: string, tc?: TraceCarrier): Promise<void> {
    const span = this.tracing.enabled ? this.answerSpan(peer, forwarded, tc) : undefined;
    try {
      await this.tracing.runIn(span, () => this.answerTunnel(id, forwarded, peer));
    } finally {
      span?.end();
    }
  }

  /** The owner's server span of a forwarded request: a child of the sender's forward span. */
  private answerSpan(peer: string, forwarded: ForwardedRequest, tc: TraceCarrier | undefined): Span | undefined {
    return this.tracing.startSpan('forwarded', {
      kind: SpanKind.SERVER,
      ...(tc ? { parent: extractTraceContext(tc) } : {}),
      attributes: { 'switchboard.from_node': peer, 'switchboard.transport': forwarded.transport, 'http.request.method': forwarded.request.method },
    });
  }

  private async answerTunnel(id: string, forwarded: ForwardedRequest, peer: string): Promise<void> {
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

  /**
   * Ends an outbound tunnel the owner will not answer (further): a refusal if the client has no
   * answer yet, else the end of its stream, after an error for each request a relayed POST
   * stream still owes (the client would otherwise wait for them until its own timeout).
   */
  private finish(id: string, refusal: HttpRefusalCode): void {
    const tunnel = this.outbound.get(id);
    if (!tunnel) return;
    this.outbound.delete(id);
    clearTimeout(tunnel.headTimer);
    if (tunnel.stage !== 'answering') {
      refuse(tunnel.res, refusal);
      return;
    }
    const owed = refusalFor('outcome_unknown');
    const errors = tunnel.answers?.errorEvents(owed.code, owed.message);
    tunnel.res.end(errors || undefined);
  }

  /** The refusal for a request the owner may have received: a POST may have run there. */
  private afterHandOver(tunnel: OutboundTunnel, otherwise: HttpRefusalCode): HttpRefusalCode {
    return tunnel.post ? 'outcome_unknown' : otherwise;
  }

  private failAll(): void {
    // Every tunnel here is at least being sent (forward() refuses before sending when the link is down).
    for (const [id, tunnel] of [...this.outbound]) this.finish(id, this.afterHandOver(tunnel, 'cluster_unavailable'));
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
      // A request still being sent is settled by what PUBLISH answers (0 receivers → 404).
      if (tunnel.stage !== 'sending' && !alive.has(tunnel.owner)) this.finish(id, this.afterHandOver(tunnel, 'session_not_found'));
    }
    for (const [key, tunnel] of [...this.inbound]) {
      if (!alive.has(tunnel.peer)) this.cancelInbound(key);
    }
  }
}
