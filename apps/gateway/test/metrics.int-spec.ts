import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { disconnect, eventually, LATCH_PLUGIN, startHarness, TESTKIT_PLUGIN, type GatewayHarness } from './gateway-harness';
import { modernRequest } from './modern-request';

interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text format into samples per series name. */
function parseMetrics(page: string): Map<string, Sample[]> {
  const series = new Map<string, Sample[]>();
  for (const line of page.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const samples = series.get(match[1]) ?? [];
    samples.push({ labels, value: Number(match[3]) });
    series.set(match[1], samples);
  }
  return series;
}

/** The value of the one sample of `name` whose labels include `labels` (0 when absent). */
function valueOf(metrics: Map<string, Sample[]>, name: string, labels: Record<string, string> = {}): number {
  const matching = (metrics.get(name) ?? []).filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (matching.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${matching.length} series`);
  return matching[0]?.value ?? 0;
}

describe('gateway metrics', () => {
  let h: GatewayHarness;
  let tenant: { id: string };
  let token: string;
  let keyId: string;
  /** Every POST the clients sent, with its HTTP status: what messages_total must count. */
  const posts: number[] = [];

  /** fetch for the SDK clients, recording the status of each POST. */
  const countingFetch: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    if ((init?.method ?? 'GET').toUpperCase() === 'POST') posts.push(response.status);
    return response;
  };

  const scrape = async () => {
    const response = await fetch(h.gateway.metricsUrl!);
    expect(response.status).toBe(200);
    return parseMetrics(await response.text());
  };

  beforeAll(async () => {
    h = await startHarness('gw_metrics', { PLUGINS: `${TESTKIT_PLUGIN},${LATCH_PLUGIN}` });
    tenant = await h.prisma.tenant.create({ data: { slug: 'busy', name: 'Busy', limits: { toolCallsPerMinute: 5 } }, select: { id: true } });
    await h.install(tenant.id, 'latch');
    await h.install(tenant.id, 'testkit');
    ({ token, id: keyId } = await h.issueKey(tenant.id));
  });
  afterAll(async () => {
    await h.close();
  });

  it('serves /metrics on its own port and never on the public one', async () => {
    expect(h.gateway.metricsUrl).toBeDefined();
    expect(new URL(h.gateway.metricsUrl!).port).not.toBe(String(h.gateway.port));
    const publicPage = await fetch(`${h.gateway.url}/metrics`);
    expect(publicPage.status).toBe(404);
    expect(await publicPage.text()).not.toMatch(/switchboard_/);
  });

  it('counts sessions, messages, tool calls, rejections and auth failures as they happen, without tenant or key labels', async () => {
    const headers = { authorization: `Bearer ${token}` };
    const url = (path: string) => new URL(`/t/busy/${path}`, h.gateway.url);
    const streamable = new Client({ name: 'metrics-test', version: '1.0.0' });
    await streamable.connect(new StreamableHTTPClientTransport(url('mcp'), { requestInit: { headers }, fetch: countingFetch }));
    const sse = new Client({ name: 'metrics-test', version: '1.0.0' });
    await sse.connect(
      new SSEClientTransport(url('sse'), {
        requestInit: { headers },
        fetch: countingFetch,
        eventSourceInit: { fetch: (input, init) => fetch(input, { ...init, headers: { ...(init?.headers as object), ...headers } }) },
      }),
    );

    // Five calls within the tenant's toolCallsPerMinute of 5, then one refused.
    for (let i = 0; i < 3; i++) await streamable.callTool({ name: 'latch__ping', arguments: {} });
    expect((await sse.callTool({ name: 'testkit__boom', arguments: {} })).isError).toBe(true);
    await sse.callTool({ name: 'latch__ping', arguments: {} });
    await expect(streamable.callTool({ name: 'latch__ping', arguments: {} })).rejects.toBeInstanceOf(McpError);

    // Two refused credentials.
    for (const authorization of [undefined, 'Bearer sbk_nothing_here']) {
      const response = await countingFetch(url('mcp'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(authorization ? { authorization } : {}) },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
      });
      await response.text();
    }
    // One stateless 2026-07-28 request: counted under its own era.
    const modern = await countingFetch(url('mcp'), {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/list',
        params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } },
      }),
    });
    expect(modern.status).toBe(200);
    await modern.text();

    const during = await scrape();
    expect(valueOf(during, 'switchboard_gateway_sessions_opened_total', { transport: 'streamable-http' })).toBe(1);
    expect(valueOf(during, 'switchboard_gateway_sessions_opened_total', { transport: 'sse' })).toBe(1);
    expect(valueOf(during, 'switchboard_gateway_active_sessions', { transport: 'streamable-http' })).toBe(1);
    expect(valueOf(during, 'switchboard_gateway_active_sessions', { transport: 'sse' })).toBe(1);

    expect(valueOf(during, 'switchboard_gateway_tool_calls_total', { plugin: 'latch', tool: 'ping', outcome: 'ok' })).toBe(4);
    expect(valueOf(during, 'switchboard_gateway_tool_calls_total', { plugin: 'testkit', tool: 'boom', outcome: 'error' })).toBe(1);
    expect(valueOf(during, 'switchboard_gateway_tool_calls_total', { plugin: 'latch', tool: 'ping', outcome: 'rejected' })).toBe(1);
    expect(valueOf(during, 'switchboard_gateway_tool_call_duration_seconds_count', { plugin: 'latch' })).toBe(4);
    expect(valueOf(during, 'switchboard_gateway_tool_call_duration_seconds_count', { plugin: 'testkit' })).toBe(1);
    expect(valueOf(during, 'switchboard_gateway_rate_limit_rejections_total', { scope: 'tenant', limit: 'toolCallsPerMinute' })).toBe(1);

    expect(valueOf(during, 'switchboard_gateway_auth_failures_total', { reason: 'missing' })).toBe(1);
    const otherAuthFailures = (during.get('switchboard_gateway_auth_failures_total') ?? []).filter((s) => s.labels['reason'] !== 'missing');
    expect(otherAuthFailures.reduce((sum, s) => sum + s.value, 0)).toBe(1);

    // Every POST is one message, answered here (local): accepted ones ok, refused ones rejected.
    const accepted = posts.filter((status) => status < 400).length;
    expect(accepted).toBeGreaterThanOrEqual(8);
    expect(valueOf(during, 'switchboard_gateway_messages_total', { route: 'local', outcome: 'ok', era: 'session' })).toBe(accepted - 1);
    expect(valueOf(during, 'switchboard_gateway_messages_total', { route: 'local', outcome: 'ok', era: '2026-07-28' })).toBe(1);
    expect(valueOf(during, 'switchboard_gateway_messages_total', { route: 'local', outcome: 'rejected', era: 'session' })).toBe(2);
    expect(valueOf(during, 'switchboard_gateway_messages_total', { route: 'forwarded', outcome: 'ok', era: 'session' })).toBe(0);

    expect(during.has('switchboard_gateway_usage_buffer_depth')).toBe(true);
    expect(during.has('process_cpu_seconds_total')).toBe(true);
    // Every series names its node, and none names a tenant or a key.
    expect(valueOf(during, 'switchboard_gateway_sessions_opened_total', { transport: 'sse', node: h.gateway.nodeId })).toBe(1);
    const page = await (await fetch(h.gateway.metricsUrl!)).text();
    for (const identifying of [tenant.id, 'busy', keyId, token]) expect(page).not.toContain(identifying);

    await disconnect(streamable);
    await disconnect(sse);
    await eventually(async () => {
      const after = await scrape();
      return valueOf(after, 'switchboard_gateway_active_sessions', { transport: 'sse' }) === 0 && valueOf(after, 'switchboard_gateway_active_sessions', { transport: 'streamable-http' }) === 0;
    });
  });

  it('counts a stream the client closes before it ends (a subscriptions/listen stream)', async () => {
    const before = valueOf(await scrape(), 'switchboard_gateway_messages_total', { route: 'local', outcome: 'ok', era: '2026-07-28' });
    const abort = new AbortController();
    const response = await modernRequest(h.gateway.url, '/t/busy/mcp', token, 'subscriptions/listen', { notifications: { toolsListChanged: true } }, { id: 'listen-1', signal: abort.signal });
    expect(response.status).toBe(200);
    // The acknowledgement has arrived: the stream is open. Then the client goes away.
    const reader = response.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain('notifications/subscriptions/acknowledged');
    abort.abort();
    await eventually(async () => valueOf(await scrape(), 'switchboard_gateway_messages_total', { route: 'local', outcome: 'ok', era: '2026-07-28' }) === before + 1);
  });
});
