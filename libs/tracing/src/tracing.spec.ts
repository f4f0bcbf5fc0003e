import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { extractTraceContext, injectTraceContext } from './trace-context';
import { tracedFetch } from './traced-fetch';
import { PooledIdGenerator, Tracing } from './tracing';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_ID}-01`;

describe('extractTraceContext', () => {
  it('reads the caller’s traceparent and tracestate from HTTP headers', () => {
    const context = extractTraceContext({ traceparent: TRACEPARENT, tracestate: 'vendor=abc', 'content-type': 'application/json' });
    const span = context && trace.getSpanContext(context);
    expect(span).toMatchObject({ traceId: TRACE_ID, spanId: PARENT_ID, traceFlags: 1, isRemote: true });
    expect(span?.traceState?.get('vendor')).toBe('abc');
  });

  it('reads a 2026-07-28 request’s params._meta the same way', () => {
    const context = extractTraceContext({ progressToken: 1, traceparent: TRACEPARENT });
    expect(context && trace.getSpanContext(context)?.traceId).toBe(TRACE_ID);
  });

  it('takes the first of repeated headers', () => {
    const context = extractTraceContext({ traceparent: [TRACEPARENT, `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`] });
    expect(context && trace.getSpanContext(context)?.traceId).toBe(TRACE_ID);
  });

  it.each([
    ['garbage', 'not-a-traceparent'],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${PARENT_ID}-01`],
    ['an all-zero span id', `00-${TRACE_ID}-${'0'.repeat(16)}-01`],
    ['version ff', `ff-${TRACE_ID}-${PARENT_ID}-01`],
    ['a short trace id', `00-${TRACE_ID.slice(2)}-${PARENT_ID}-01`],
    ['a non-string value', 42],
  ])('ignores a malformed traceparent (%s)', (_name, traceparent) => {
    expect(extractTraceContext({ traceparent })).toBeUndefined();
  });

  it('ignores a carrier that is not an object', () => {
    expect(extractTraceContext(undefined)).toBeUndefined();
    expect(extractTraceContext('traceparent')).toBeUndefined();
  });

  it('round-trips through injectTraceContext', () => {
    const context = extractTraceContext({ traceparent: TRACEPARENT, tracestate: 'a=1' });
    expect(context && injectTraceContext(context)).toEqual({ traceparent: TRACEPARENT, tracestate: 'a=1' });
  });
});

describe('Tracing', () => {
  const config = { tracesUrl: 'http://127.0.0.1:1/v1/traces', headers: {}, serviceName: 'test', sampleRatio: 1 };

  it('does nothing when disabled: no span, no carrier, work runs as is', async () => {
    const tracing = Tracing.disabled();
    expect(tracing.enabled).toBe(false);
    expect(tracing.startSpan('x')).toBeUndefined();
    expect(tracing.carrier()).toBeUndefined();
    await expect(tracing.inSpan('x', {}, async (span) => span)).resolves.toBeUndefined();
    await tracing.close();
  });

  it('parents spans to the active one and continues the caller’s trace', async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = Tracing.start(config, exporter);
    const root = tracing.startSpan('request', { parent: extractTraceContext({ traceparent: TRACEPARENT }) });
    await tracing.runIn(root, () => tracing.inSpan('auth', {}, async () => undefined));
    root?.end();
    await tracing.flush();
    const [auth, request] = exporter.getFinishedSpans();
    expect(request.spanContext().traceId).toBe(TRACE_ID);
    expect(request.parentSpanContext?.spanId).toBe(PARENT_ID);
    expect(auth.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
  });

  it('marks a span whose work throws as an error, without the message', async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = Tracing.start(config, exporter);
    await expect(tracing.inSpan('tool', {}, async () => Promise.reject(new TypeError('secret detail')))).rejects.toThrow('secret detail');
    await tracing.flush();
    expect(exporter.getFinishedSpans()[0].status).toEqual({ code: 2, message: 'TypeError' });
  });
});

describe('tracedFetch', () => {
  it('sends the active span’s traceparent upstream inside a client span, and nothing outside one', async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = Tracing.start({ tracesUrl: 'http://127.0.0.1:1/v1/traces', headers: {}, serviceName: 'test', sampleRatio: 1 }, exporter);
    const sent: (string | null)[] = [];
    const fetch = tracedFetch(tracing, async (_input: string | URL, init?: { method?: string; headers?: unknown }) => {
      sent.push(new Headers(init?.headers as ConstructorParameters<typeof Headers>[0]).get('traceparent'));
      return { status: 200 };
    });
    await fetch('https://upstream.example/mcp?token=hidden', { method: 'POST', headers: { authorization: 'Bearer x' } });
    const tool = tracing.startSpan('tool');
    await tracing.runIn(tool, () => fetch('https://upstream.example/mcp?token=hidden', { method: 'POST', headers: { authorization: 'Bearer x' } }));
    tool?.end();
    await tracing.flush();
    const [client] = exporter.getFinishedSpans();
    expect(sent[0]).toBeNull();
    expect(sent[1]).toBe(`00-${client.spanContext().traceId}-${client.spanContext().spanId}-01`);
    expect(client.parentSpanContext?.spanId).toBe(tool?.spanContext().spanId);
    expect(JSON.stringify(client.attributes)).not.toMatch(/hidden|Bearer|\/mcp/);
  });
});

describe('PooledIdGenerator', () => {
  it('cuts valid, distinct W3C ids from its pool, across refills', () => {
    const ids = new PooledIdGenerator();
    const traceIds = new Set<string>();
    const spanIds = new Set<string>();
    // 4096-byte pool: 1,000 of each (24 KB) refill it several times.
    for (let i = 0; i < 1_000; i++) {
      traceIds.add(ids.generateTraceId());
      spanIds.add(ids.generateSpanId());
    }
    expect(traceIds.size).toBe(1_000);
    expect(spanIds.size).toBe(1_000);
    for (const id of traceIds) expect(id).toMatch(/^[0-9a-f]{32}$/);
    for (const id of spanIds) expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(traceIds.has('0'.repeat(32))).toBe(false);
  });
});
