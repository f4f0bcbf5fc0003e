import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import type { LimitOverrides } from '@switchboard/limits';
import { JSON_RPC_LIMIT_EXCEEDED } from '../src/protocol/jsonrpc-errors';
import { latch } from './fixtures/latch-plugin';
import { connectClient, disconnect, eventually, LATCH_PLUGIN, startHarness, type GatewayHarness, type TransportName } from './gateway-harness';

/** A raw Streamable HTTP initialize, to see the HTTP answer the SDK client hides. */
async function initialize(baseUrl: string, slug: string, token: string): Promise<Response> {
  const response = await fetch(`${baseUrl}/t/${slug}/mcp`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'limits-test', version: '1.0.0' } },
    }),
  });
  await response.text();
  return response;
}

/** The error a call was refused with (calls that should be refused must not resolve). */
async function refusal(call: Promise<unknown>): Promise<McpError> {
  const error = await call.then(
    () => new Error('the call was admitted'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(McpError);
  return error as McpError;
}

describe('limits applied by the gateway (one node, in-memory limiter)', () => {
  let h: GatewayHarness;
  const clients: Client[] = [];

  /** A tenant with these limits, the latch plugin enabled, and a key (with its own limits if given). */
  const tenantWith = async (slug: string, limits: LimitOverrides, keyLimits: LimitOverrides = {}) => {
    const tenant = await h.prisma.tenant.create({ data: { slug, name: slug, limits }, select: { id: true } });
    await h.install(tenant.id, 'latch');
    const key = await h.issueKey(tenant.id);
    await h.prisma.apiKey.update({ where: { id: key.id }, data: { limits: keyLimits } });
    return { id: tenant.id, token: key.token };
  };
  const connect = async (slug: string, token: string, transport: TransportName = 'streamable-http') => {
    const client = await connectClient(h.gateway.url, `/t/${slug}`, token, transport);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    h = await startHarness('gw_limits', { PLUGINS: LATCH_PLUGIN });
  });
  afterEach(async () => {
    latch.open();
    await Promise.all(clients.splice(0).map((c) => disconnect(c)));
  });
  afterAll(async () => {
    await h.close();
  });

  it('answers a request over the tenant’s requests per minute with 429, Retry-After and the RateLimit headers', async () => {
    const { token } = await tenantWith('rpm', { requestsPerMinute: 3 });
    const admitted = [await initialize(h.gateway.url, 'rpm', token), await initialize(h.gateway.url, 'rpm', token), await initialize(h.gateway.url, 'rpm', token)];
    expect(admitted.map((r) => r.status)).toEqual([200, 200, 200]);
    // Admitted answers already tell the client how much is left.
    expect(admitted.map((r) => r.headers.get('ratelimit-policy'))).toEqual(Array(3).fill('"tenant-requestsPerMinute";q=3;w=60'));
    expect(admitted.map((r) => r.headers.get('ratelimit')?.split(';')[1])).toEqual(['r=2', 'r=1', 'r=0']);

    const refused = await fetch(`${h.gateway.url}/t/rpm/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers.get('ratelimit-policy')).toBe('"tenant-requestsPerMinute";q=3;w=60');
    expect(refused.headers.get('ratelimit')).toBe(`"tenant-requestsPerMinute";r=0;t=${retryAfter}`);
    const body = await refused.json();
    expect(body).toMatchObject({ jsonrpc: '2.0', id: null, error: { message: expect.stringMatching(/requestsPerMinute/) } });
  });

  it('lets a client over its requests per minute still end its session, freeing the slot', async () => {
    const { token } = await tenantWith('ending', { requestsPerMinute: 2 });
    const client = await connect('ending', token);
    expect((await initialize(h.gateway.url, 'ending', token)).status).toBe(429);
    const sessionId = (client.transport as StreamableHTTPClientTransport).sessionId!;
    const open = h.gateway.activeSessions({ tenant: 'ending' });
    const ended = await fetch(`${h.gateway.url}/t/ending/mcp`, { method: 'DELETE', headers: { authorization: `Bearer ${token}`, 'mcp-session-id': sessionId } });
    expect(ended.status).toBe(200);
    await eventually(() => h.gateway.activeSessions({ tenant: 'ending' }) === open - 1);
  });

  it('limits a key by its own tighter limit without spending the budget of its tenant’s other keys', async () => {
    const { id, token } = await tenantWith('keyed', { requestsPerMinute: 10 }, { requestsPerMinute: 1 });
    const other = await h.issueKey(id);
    expect((await initialize(h.gateway.url, 'keyed', token)).status).toBe(200);
    const refused = await initialize(h.gateway.url, 'keyed', token);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('ratelimit-policy')).toBe('"key-requestsPerMinute";q=1;w=60');
    expect((await initialize(h.gateway.url, 'keyed', other.token)).status).toBe(200);
  });

  describe.each<TransportName>(['streamable-http', 'sse'])('tool calls over %s', (transport) => {
    it('refuses a tool call over the tool calls per minute inside the stream, with the limit and retry-after in the error data', async () => {
      const slug = `tpm-${transport === 'sse' ? 'sse' : 'http'}`;
      const { token } = await tenantWith(slug, { toolCallsPerMinute: 2 });
      const client = await connect(slug, token, transport);
      await client.callTool({ name: 'latch__ping', arguments: {} });
      await client.callTool({ name: 'latch__ping', arguments: {} });
      const error = await refusal(client.callTool({ name: 'latch__ping', arguments: {} }));
      expect(error.code).toBe(JSON_RPC_LIMIT_EXCEEDED);
      expect(error.data).toEqual({
        limit: 'toolCallsPerMinute',
        scope: 'tenant',
        limitValue: 2,
        retryAfterSeconds: expect.any(Number),
        reason: 'limit-reached',
      });
      expect((error.data as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThanOrEqual(1);
      // The session stays usable: the refusal was one JSON-RPC error, not a broken stream.
      expect((await client.listTools()).tools.length).toBeGreaterThan(0);
    });
  });

  it('answers 429 with Retry-After before any stream opens at the session cap, and admits again once a session ends', async () => {
    const { token } = await tenantWith('capped', { concurrentSessions: 2 });
    await connect('capped', token, 'sse');
    const second = await connect('capped', token, 'streamable-http');

    const sse = await fetch(`${h.gateway.url}/t/capped/sse`, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } });
    expect(sse.status).toBe(429);
    expect(sse.headers.get('content-type')).toMatch(/application\/json/);
    expect(sse.headers.get('retry-after')).toBe('1');
    expect(((await sse.json()) as { error: { message: string } }).error.message).toMatch(/concurrentSessions/);
    expect((await initialize(h.gateway.url, 'capped', token)).status).toBe(429);

    // Ending a session (here a DELETE) gives its slot back.
    const open = h.gateway.activeSessions({ tenant: 'capped' });
    await disconnect(second);
    await eventually(() => h.gateway.activeSessions({ tenant: 'capped' }) === open - 1);
    await connect('capped', token, 'streamable-http');
  });

  it('gives the session slot back when a legacy SSE client just disconnects', async () => {
    const { token } = await tenantWith('dropped', { concurrentSessions: 1 });
    const client = await connectClient(h.gateway.url, '/t/dropped', token, 'sse');
    expect((await initialize(h.gateway.url, 'dropped', token)).status).toBe(429);
    const open = h.gateway.activeSessions({ tenant: 'dropped' });
    await client.close();
    await eventually(() => h.gateway.activeSessions({ tenant: 'dropped' }) === open - 1);
    await connect('dropped', token, 'sse');
  });

  it('refuses a tool call while the in-flight cap is held by running calls, and admits once they finish', async () => {
    const { token } = await tenantWith('inflight', { concurrentToolCalls: 1 });
    const client = await connect('inflight', token);
    latch.close();
    const running = client.callTool({ name: 'latch__hold', arguments: {} });
    await latch.held(1);

    const error = await refusal(client.callTool({ name: 'latch__ping', arguments: {} }));
    expect(error.code).toBe(JSON_RPC_LIMIT_EXCEEDED);
    expect(error.data).toMatchObject({ limit: 'concurrentToolCalls', scope: 'tenant', limitValue: 1, retryAfterSeconds: 1 });

    latch.open();
    expect((await running).content).toEqual([{ type: 'text', text: 'released' }]);
    expect((await client.callTool({ name: 'latch__ping', arguments: { text: 'again' } })).content).toEqual([{ type: 'text', text: 'pong again' }]);
  });

  it('stops tool calls once the tenant’s monthly quota is used up, across its sessions', async () => {
    const { token } = await tenantWith('quota', { monthlyToolCalls: 3 });
    const first = await connect('quota', token);
    const second = await connect('quota', token, 'sse');
    await first.callTool({ name: 'latch__ping', arguments: {} });
    await second.callTool({ name: 'latch__ping', arguments: {} });
    await first.callTool({ name: 'latch__ping', arguments: {} });
    const error = await refusal(second.callTool({ name: 'latch__ping', arguments: {} }));
    expect(error.code).toBe(JSON_RPC_LIMIT_EXCEEDED);
    expect(error.data).toMatchObject({ limit: 'monthlyToolCalls', scope: 'tenant', limitValue: 3, reason: 'limit-reached' });
    // The quota resets with the month, so the client is told to come back then (within 31 days).
    expect((error.data as { retryAfterSeconds: number }).retryAfterSeconds).toBeLessThanOrEqual(31 * 24 * 3600);
  });
});
