import { randomBytes } from 'node:crypto';
import { startHarness, type GatewayHarness } from './gateway-harness';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './otlp-receiver';

const PROTOCOL_VERSION = '2025-06-18';

function traceparent(): { traceId: string; parentId: string; header: string } {
  const traceId = randomBytes(16).toString('hex');
  const parentId = randomBytes(8).toString('hex');
  return { traceId, parentId, header: `00-${traceId}-${parentId}-01` };
}

async function post(url: string, token: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify(body),
  });
}

describe('OpenTelemetry tracing (OTEL_EXPORTER_OTLP_ENDPOINT set)', () => {
  let receiver: OtlpReceiver;
  let harness: GatewayHarness;
  let token: string;
  const caller = traceparent();
  const modernCaller = traceparent();
  const refusedCaller = traceparent();
  const federatedCaller = traceparent();
  const statelessCaller = traceparent();

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    // Loopback opened for plugins: tenant "front" federates tenant "back" on this same gateway (remote-mcp).
    harness = await startHarness('tracing', { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'gw-under-test', OUTBOUND_ALLOW_CIDRS: '127.0.0.1/32' });
    const tenant = await harness.createTenant('acme');
    await harness.install(tenant.id, 'testkit');
    token = (await harness.issueKey(tenant.id)).token;
    const mcp = `${harness.gateway.url}/t/acme/mcp`;

    const init = await post(mcp, token, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
    const sessionId = init.headers.get('mcp-session-id') ?? '';
    await init.body?.cancel();
    const session = { 'mcp-session-id': sessionId, 'mcp-protocol-version': PROTOCOL_VERSION };
    await (await post(mcp, token, { jsonrpc: '2.0', method: 'notifications/initialized' }, session)).body?.cancel();
    const call = await post(mcp, token, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'testkit__whoami', arguments: {} } }, { ...session, traceparent: caller.header, tracestate: 'vendor=1' });
    expect(call.status).toBe(200);
    await call.text();
    // The same call with the trace context in _meta only (as a 2026-07-28 message carries it).
    const metaCall = await post(mcp, token, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'testkit__whoami', arguments: {}, _meta: { traceparent: modernCaller.header } } }, session);
    await metaCall.text();
    // A 2026-07-28 request (no session): the trace context in its params._meta only.
    const stateless = await post(
      mcp,
      token,
      {
        jsonrpc: '2.0',
        id: 9,
        method: 'tools/call',
        params: {
          name: 'testkit__whoami',
          arguments: {},
          _meta: {
            'io.modelcontextprotocol/protocolVersion': '2026-07-28',
            'io.modelcontextprotocol/clientCapabilities': {},
            'io.modelcontextprotocol/clientInfo': { name: 'tracing-test', version: '1' },
            traceparent: statelessCaller.header,
          },
        },
      },
      { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'testkit__whoami' },
    );
    expect(stateless.status).toBe(200);
    await stateless.text();
    const refused = await post(`${mcp}?secret=do-not-record`, 'sk_live_not-a-key', { jsonrpc: '2.0', id: 4, method: 'tools/list' }, { traceparent: refusedCaller.header });
    expect(refused.status).toBe(401);
    await refused.text();

    const back = await harness.createTenant('back');
    await harness.install(back.id, 'echo');
    const front = await harness.createTenant('front');
    await harness.install(front.id, 'remote-mcp', { url: `${harness.gateway.url}/t/back/mcp` }, { bearerToken: (await harness.issueKey(back.id)).token });
    const frontToken = (await harness.issueKey(front.id)).token;
    const frontMcp = `${harness.gateway.url}/t/front/mcp`;
    const frontInit = await post(frontMcp, frontToken, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
    const frontSession = { 'mcp-session-id': frontInit.headers.get('mcp-session-id') ?? '', 'mcp-protocol-version': PROTOCOL_VERSION };
    await frontInit.body?.cancel();
    await (await post(frontMcp, frontToken, { jsonrpc: '2.0', method: 'notifications/initialized' }, frontSession)).body?.cancel();
    const federated = await post(
      frontMcp,
      frontToken,
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'remote-mcp__echo__echo', arguments: { text: 'across' } } },
      { ...frontSession, traceparent: federatedCaller.header },
    );
    expect(await federated.text()).toContain('across');
    // Closing flushes the batch processor: every span above is exported before close resolves.
    await harness.close();
  }, 60_000);

  afterAll(async () => {
    await receiver?.close();
  });

  const inTrace = (traceId: string): ReceivedSpan[] => receiver.spans.filter((span) => span.traceId === traceId);
  const named = (spans: ReceivedSpan[], name: string): ReceivedSpan => {
    const span = spans.find((s) => s.name === name);
    if (!span) throw new Error(`no span ${name} in ${spans.map((s) => s.name).join(', ')}`);
    return span;
  };

  it('exports OTLP/HTTP JSON under the configured service name', () => {
    expect(receiver.contentTypes.length).toBeGreaterThan(0);
    expect(receiver.contentTypes.every((type) => type.startsWith('application/json'))).toBe(true);
    expect(new Set(receiver.spans.map((span) => span.service))).toEqual(new Set(['gw-under-test']));
  });

  it('records the request span in the caller’s trace, with auth, admission and tool spans as its children', () => {
    const spans = inTrace(caller.traceId);
    const request = named(spans, 'POST /t/:tenant/mcp');
    const auth = named(spans, 'auth');
    const admission = named(spans, 'admission');
    const tool = named(spans, 'tools/call testkit__whoami');
    expect(request.parentSpanId).toBe(caller.parentId);
    expect(request.kind).toBe(2); // SERVER
    expect(request.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.route': '/t/:tenant/mcp', 'switchboard.tenant': 'acme', 'http.response.status_code': 200 });
    expect(auth.parentSpanId).toBe(request.spanId);
    expect(auth.attributes).toMatchObject({ 'switchboard.auth.outcome': 'ok', 'switchboard.auth.kind': 'api-key' });
    expect(admission.parentSpanId).toBe(request.spanId);
    expect(admission.attributes).toMatchObject({ 'switchboard.admission.outcome': 'admitted', 'switchboard.messages': 1 });
    expect(tool.parentSpanId).toBe(request.spanId);
    expect(tool.attributes).toMatchObject({ 'switchboard.plugin': 'testkit', 'mcp.tool.name': 'testkit__whoami', 'switchboard.outcome': 'ok' });
  });

  it('parents a tool call to the traceparent in its params._meta, linked to the HTTP request', () => {
    const tool = named(inTrace(modernCaller.traceId), 'tools/call testkit__whoami');
    expect(tool.parentSpanId).toBe(modernCaller.parentId);
    const request = receiver.spans.find((span) => span.spanId === tool.links[0]?.spanId);
    expect(request?.name).toBe('POST /t/:tenant/mcp');
  });

  it('continues a 2026-07-28 request’s trace from the traceparent in its params._meta', () => {
    const tool = named(inTrace(statelessCaller.traceId), 'tools/call testkit__whoami');
    expect(tool.parentSpanId).toBe(statelessCaller.parentId);
    expect(tool.attributes['switchboard.outcome']).toBe('ok');
  });

  it('sends the tool span’s context to a remote upstream, whose own spans join the trace', () => {
    const spans = inTrace(federatedCaller.traceId);
    const tool = named(spans, 'tools/call remote-mcp__echo__echo');
    const upstream = spans.find((span) => span.name === 'POST upstream' && span.parentSpanId === tool.spanId);
    expect(upstream?.kind).toBe(3); // CLIENT
    expect(upstream?.attributes).toMatchObject({ 'http.request.method': 'POST', 'server.address': '127.0.0.1', 'http.response.status_code': 200 });
    const backRequest = spans.find((span) => span.attributes['switchboard.tenant'] === 'back' && span.parentSpanId === upstream?.spanId);
    expect(backRequest?.name).toBe('POST /t/:tenant/mcp');
    expect(named(spans, 'tools/call echo__echo').parentSpanId).toBe(backRequest?.spanId);
  });

  it('traces a refused request without recording its credential or query string', () => {
    const spans = inTrace(refusedCaller.traceId);
    expect(named(spans, 'auth').attributes['switchboard.auth.outcome']).toBe('malformed');
    expect(named(spans, 'POST /t/:tenant/mcp').attributes['http.response.status_code']).toBe(401);
    const recorded = JSON.stringify(receiver.spans);
    expect(recorded).not.toContain('sk_live');
    expect(recorded).not.toContain('do-not-record');
    expect(recorded).not.toContain(token);
  });
});
