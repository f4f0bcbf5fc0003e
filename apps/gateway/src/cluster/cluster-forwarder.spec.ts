import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { createLogger } from '@switchboard/logger';
import { ClusterForwarder, TUNNEL_CHECK_INTERVAL_MS, type ForwardedRequest, type ForwarderLink } from './cluster-forwarder';
import { ClusterLinkDownError } from './node-link';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { Tracing } from '@switchboard/tracing';

/** Longer than the watchdog's interval, so an owner found gone is told apart from a timeout. */
const FORWARD_TIMEOUT_MS = 5_000;
const OWNER = 'owner-node';
const EVENT_STREAM = { status: 200, headers: { 'content-type': 'text/event-stream' } };
const PRIMING = 'id: e1\ndata: \n\n';

interface Sent {
  to: string;
  payload: { t: string; id: string };
}

/** A node link whose sends resolve when the test says, and whose peers live while the test says. */
class FakeLink implements ForwarderLink {
  readonly nodeId = 'receiving-node';
  ready = true;
  readonly sent: Sent[] = [];
  readonly alive = new Set([OWNER]);
  /** What the next send() does; by default the owner hears it. */
  nextSend: () => Promise<number> = () => Promise.resolve(1);
  private handler: ((payload: unknown, sender: string) => void) | undefined;
  private readonly statusListeners: ((ready: boolean) => void)[] = [];

  onMessage(handler: (payload: unknown, sender: string) => void): void {
    this.handler = handler;
  }

  onStatus(listener: (ready: boolean) => void): () => void {
    this.statusListeners.push(listener);
    return () => undefined;
  }

  send(to: string, payload: unknown): Promise<number> {
    this.sent.push({ to, payload: payload as Sent['payload'] });
    return this.nextSend();
  }

  async listening(nodeIds: string[]): Promise<Set<string>> {
    return new Set(nodeIds.filter((id) => this.alive.has(id)));
  }

  /** The owner's answer to the last forwarded request. */
  answer(part: { head?: typeof EVENT_STREAM; body?: string; end?: true }): void {
    const request = this.sent.filter((sent) => sent.payload.t === 'req').at(-1)!;
    this.handler?.({ t: 'res', id: request.payload.id, ...part }, OWNER);
  }

  goDown(): void {
    this.ready = false;
    for (const listener of this.statusListeners) listener(false);
  }
}

/** Just enough of a Node response for the forwarder: what was written, and whether it ended. */
class FakeResponse extends EventEmitter {
  statusCode: number | undefined;
  headersSent = false;
  writableEnded = false;
  text = '';

  writeHead(status: number): this {
    this.statusCode = status;
    this.headersSent = true;
    return this;
  }

  flushHeaders(): void {}

  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }

  end(chunk?: string): this {
    if (chunk) this.text += chunk;
    this.writableEnded = true;
    this.emit('close');
    return this;
  }
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

function forwardedPost(body: unknown): ForwardedRequest {
  return {
    transport: 'streamable-http',
    sessionId: `00000000-0000-4000-8000-000000000000.${OWNER}`,
    // The forwarder carries the binding without reading it.
    binding: { tenantId: 't', keyId: 'k', plugins: [] } as ForwardedRequest['binding'],
    tenantSlug: 'acme',
    request: { method: 'POST', path: '/t/acme/mcp', headers: { 'content-type': 'application/json' } },
    body: JSON.stringify(body),
  };
}

function forwardedGet(): ForwardedRequest {
  const { body: _body, ...post } = forwardedPost({});
  return { ...post, request: { method: 'GET', path: '/t/acme/mcp', headers: { accept: 'text/event-stream' } } };
}

const TOOL_CALL = { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'slow__sleep', arguments: { ms: 2_000 } } };

/** The JSON-RPC messages of the `data:` lines written to the client. */
function sseMessages(text: string): { id?: unknown; result?: unknown; error?: { message: string } }[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('data:') && line.length > 'data: '.length)
    .map((line) => JSON.parse(line.slice('data:'.length)) as { id?: unknown; result?: unknown; error?: { message: string } });
}

describe('the cluster forwarder (receiving node)', () => {
  let link: FakeLink;
  let forwarder: ClusterForwarder;
  let res: FakeResponse;

  beforeEach(() => {
    jest.useFakeTimers();
    link = new FakeLink();
    forwarder = new ClusterForwarder(link, FORWARD_TIMEOUT_MS, createLogger({ name: 'test', level: 'silent' }));
    res = new FakeResponse();
  });

  afterEach(() => {
    forwarder.close();
    jest.useRealTimers();
  });

  const forward = (forwarded: ForwardedRequest) => forwarder.forward(OWNER, forwarded, res as unknown as ServerResponse);

  it('keeps relaying an answer whose head arrived before send() resolved, past the forward timeout', async () => {
    const publish = deferred<number>();
    link.nextSend = () => publish.promise;
    const done = forward(forwardedPost(TOOL_CALL));
    // The owner answers so quickly that its head beats the PUBLISH reply.
    link.answer({ head: EVENT_STREAM, body: PRIMING });
    publish.resolve(1);
    await jest.advanceTimersByTimeAsync(FORWARD_TIMEOUT_MS * 4);
    expect(res.writableEnded).toBe(false);

    link.answer({ body: 'event: message\ndata: {"result":{"content":[]},"jsonrpc":"2.0","id":7}\n\n', end: true });
    await done;
    expect(res.statusCode).toBe(200);
    expect(sseMessages(res.text)).toEqual([{ result: { content: [] }, jsonrpc: '2.0', id: 7 }]);
  });

  it('still answers 504 when the owner sends no head in time', async () => {
    const done = forward(forwardedPost(TOOL_CALL));
    await jest.advanceTimersByTimeAsync(FORWARD_TIMEOUT_MS);
    await done;
    expect(res.statusCode).toBe(504);
  });

  it('answers 502 outcome unknown, not a retryable 503, for a POST the owner heard when the link goes down', async () => {
    const done = forward(forwardedPost(TOOL_CALL));
    await jest.advanceTimersByTimeAsync(0);
    link.goDown();
    await done;
    expect(res.statusCode).toBe(502);
    expect(JSON.parse(res.text).error.message).toMatch(/reached the node holding this session.*may have run/);
  });

  it('answers 502 outcome unknown for a POST whose PUBLISH was under way when the link went down', async () => {
    const publish = deferred<number>();
    link.nextSend = () => publish.promise;
    const done = forward(forwardedPost(TOOL_CALL));
    link.goDown();
    // ioredis then fails the command it had written: whether Redis ran it is unknown.
    publish.reject(new Error('Connection is closed.'));
    await done;
    expect(res.statusCode).toBe(502);
  });

  it('answers 502 outcome unknown for a POST whose owner stopped listening before answering', async () => {
    const done = forward(forwardedPost(TOOL_CALL));
    await jest.advanceTimersByTimeAsync(0);
    link.alive.clear();
    await jest.advanceTimersByTimeAsync(TUNNEL_CHECK_INTERVAL_MS);
    await done;
    expect(res.statusCode).toBe(502);
  });

  it('answers 503 when the request never left: link down before sending, or send refused', async () => {
    link.ready = false;
    await forward(forwardedPost(TOOL_CALL));
    expect(res.statusCode).toBe(503);

    link.ready = true;
    link.nextSend = () => Promise.reject(new ClusterLinkDownError());
    res = new FakeResponse();
    await forward(forwardedPost(TOOL_CALL));
    expect(res.statusCode).toBe(503);
  });

  it('answers 404 when nobody hears the request, and 503 for a GET in flight when the link goes down', async () => {
    link.nextSend = () => Promise.resolve(0);
    await forward(forwardedPost(TOOL_CALL));
    expect(res.statusCode).toBe(404);

    link.nextSend = () => Promise.resolve(1);
    res = new FakeResponse();
    const done = forward(forwardedGet());
    await jest.advanceTimersByTimeAsync(0);
    link.goDown();
    await done;
    expect(res.statusCode).toBe(503);
  });

  it('ends a relayed POST stream whose owner stopped with an error for each request it still owes', async () => {
    const batch = [
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'a' } },
      { jsonrpc: '2.0', id: 'two', method: 'tools/call', params: { name: 'b' } },
      { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 0 } },
    ];
    const done = forward(forwardedPost(batch));
    await jest.advanceTimersByTimeAsync(0);
    link.answer({ head: EVENT_STREAM, body: PRIMING });
    // A progress notification mentioning "error", and the answer to 1 split across two messages.
    link.answer({ body: 'event: message\ndata: {"method":"notifications/progress","params":{"message":"no error yet"},"jsonrpc":"2.0"}\n\n' });
    link.answer({ body: 'event: message\ndata: {"result":{},"jsonrpc":' });
    link.answer({ body: '"2.0","id":1}\n\n' });
    link.alive.clear();
    await jest.advanceTimersByTimeAsync(TUNNEL_CHECK_INTERVAL_MS);
    await done;

    const owed = sseMessages(res.text).filter((message) => message.error);
    expect(owed.map((message) => message.id)).toEqual(['two']);
    expect(owed[0]!.error!.message).toMatch(/outcome unknown/);
    expect(res.text.endsWith('\n\n')).toBe(true);
  });

  it('owes nothing when the relayed stream already answered every request, and ends it', async () => {
    const done = forward(forwardedPost(TOOL_CALL));
    await jest.advanceTimersByTimeAsync(0);
    link.answer({ head: EVENT_STREAM, body: `${PRIMING}event: message\ndata: {"result":{},"jsonrpc":"2.0","id":7}\n\n` });
    link.goDown();
    await done;
    expect(sseMessages(res.text).filter((message) => message.error)).toEqual([]);
  });

  it('ends a relayed GET stream whose owner stopped without writing any answer into it', async () => {
    const done = forward(forwardedGet());
    await jest.advanceTimersByTimeAsync(0);
    link.answer({ head: EVENT_STREAM, body: PRIMING });
    link.alive.clear();
    await jest.advanceTimersByTimeAsync(TUNNEL_CHECK_INTERVAL_MS);
    await done;
    expect(res.text).toBe(PRIMING);
  });

  it('cuts a relayed stream whose client stopped reading, and tells the owner to stop', async () => {
    const bounded = new ClusterForwarder(link, FORWARD_TIMEOUT_MS, createLogger({ name: 'test', level: 'silent' }), { maxBufferedBytes: 64 });
    // Nothing the client is sent is read: every byte stays buffered.
    const unread = Object.assign(res, {
      destroyed: false,
      destroy() {
        this.destroyed = true;
        res.emit('close');
      },
    });
    Object.defineProperty(unread, 'writableLength', { get: () => res.text.length });
    const done = bounded.forward(OWNER, forwardedGet(), unread as unknown as ServerResponse);
    await jest.advanceTimersByTimeAsync(0);
    link.answer({ head: EVENT_STREAM, body: PRIMING });
    link.answer({ body: `data: ${'x'.repeat(100)}\n\n` });
    await done;
    expect(unread.destroyed).toBe(true);
    expect(link.sent.map((sent) => sent.payload.t)).toContain('cancel');
    bounded.close();
  });
});

describe('the cluster forwarder with tracing on', () => {
  const config = { tracesUrl: 'http://127.0.0.1:1/v1/traces', headers: {}, serviceName: 'test', sampleRatio: 1 };
  const logger = createLogger({ name: 'test', level: 'silent' });

  it('carries the forward span’s context to the owner, whose work runs in a child server span', async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = Tracing.start(config, exporter);
    const receivingLink = new FakeLink();
    const receiving = new ClusterForwarder(receivingLink, FORWARD_TIMEOUT_MS, logger, {}, tracing);
    const ownerLink = new FakeLink();
    const owner = new ClusterForwarder(ownerLink, FORWARD_TIMEOUT_MS, logger, {}, tracing);
    let activeOnOwner: string | undefined;
    owner.serve(async () => {
      activeOnOwner = tracing.activeSpanContext()?.spanId;
      return new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } });
    });
    const res = new FakeResponse();
    const request = tracing.startSpan('request');
    await tracing.runIn(request, async () => {
      void receiving.forward(OWNER, forwardedPost(TOOL_CALL), res as unknown as ServerResponse);
      await Promise.resolve();
    });
    const sent = receivingLink.sent.find((s) => s.payload.t === 'req')!.payload as { t: 'req'; id: string; tc?: { traceparent: string } };
    expect(sent.tc?.traceparent).toMatch(new RegExp(`^00-${request!.spanContext().traceId}-[0-9a-f]{16}-01$`));
    // The owner hears the request as the link would deliver it, and answers.
    const answered = new Promise<void>((resolve) => {
      ownerLink.nextSend = () => {
        resolve();
        return Promise.resolve(1);
      };
    });
    (ownerLink as unknown as { handler: (payload: unknown, sender: string) => void }).handler(sent, receivingLink.nodeId);
    await answered;
    // The owner's span ends once its send settles, a few promise turns later.
    await new Promise((resolve) => setImmediate(resolve));
    receiving.close();
    owner.close();
    request?.end();
    await tracing.flush();
    const spans = exporter.getFinishedSpans();
    const forward = spans.find((span) => span.name === 'forward')!;
    const forwarded = spans.find((span) => span.name === 'forwarded')!;
    expect(forward.parentSpanContext?.spanId).toBe(request!.spanContext().spanId);
    expect(sent.tc?.traceparent).toContain(forward.spanContext().spanId);
    expect(forwarded.parentSpanContext?.spanId).toBe(forward.spanContext().spanId);
    expect(forwarded.spanContext().traceId).toBe(request!.spanContext().traceId);
    expect(activeOnOwner).toBe(forwarded.spanContext().spanId);
  });

  it('sends no trace context when tracing is off', async () => {
    const link = new FakeLink();
    const forwarder = new ClusterForwarder(link, FORWARD_TIMEOUT_MS, logger);
    void forwarder.forward(OWNER, forwardedPost(TOOL_CALL), new FakeResponse() as unknown as ServerResponse);
    await Promise.resolve();
    expect(link.sent.find((s) => s.payload.t === 'req')!.payload).not.toHaveProperty('tc');
    forwarder.close();
  });
});
