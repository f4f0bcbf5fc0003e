import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { latch } from './fixtures/latch-plugin';
import { waitStarts } from './fixtures/testkit-plugin';
import { connectClient, eventually, LATCH_PLUGIN, startHarness, TESTKIT_PLUGIN, type GatewayHarness, type TransportName } from './gateway-harness';
import { modernRequest } from './modern-request';

describe('graceful shutdown', () => {
  const harnesses: GatewayHarness[] = [];
  const clients: Client[] = [];

  /** A gateway with both fixture plugins and one tenant key; closed after each test. */
  async function gatewayWith(label: string, graceMs: number) {
    const h = await startHarness(label, { SHUTDOWN_GRACE_MS: String(graceMs), PLUGINS: `${TESTKIT_PLUGIN},${LATCH_PLUGIN}` });
    harnesses.push(h);
    const tenant = await h.createTenant('acme');
    await h.install(tenant.id, 'testkit');
    await h.install(tenant.id, 'latch');
    const { token } = await h.issueKey(tenant.id);
    const connect = async (transport: TransportName) => {
      const client = await connectClient(h.gateway.url, '/t/acme', token, transport);
      clients.push(client);
      return client;
    };
    return { h, token, connect };
  }

  afterEach(async () => {
    // Handlers the tests left held finish now (the gateway no longer waits for them).
    latch.open();
    for (const client of clients.splice(0)) await client.close();
    for (const h of harnesses.splice(0)) await h.close();
  });

  it('lets an in-flight call finish, refuses new sessions meanwhile, then closes every session', async () => {
    const { h, token, connect } = await gatewayWith('gw_shutdown', 5_000);
    const client = await connect('streamable-http');

    const started = waitStarts.count;
    const call = client.callTool({ name: 'testkit__wait', arguments: { ms: 200 } });
    await eventually(() => waitStarts.count > started);
    const closing = h.gateway.close();

    const refused = await fetch(new URL('/t/acme/mcp', h.gateway.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }),
    }).catch(() => undefined);
    if (refused) expect(refused.status).toBe(503);

    expect((await call).content).toEqual([{ type: 'text', text: 'waited 200' }]);
    await closing;
    expect(h.gateway.activeSessions()).toBe(0);
  });

  it('refuses a new call on an open session while draining, and still lets the calls in flight finish', async () => {
    const { h, token, connect } = await gatewayWith('gw_shutdown_drain', 30_000);
    const streamable = await connect('streamable-http');
    const sse = await connect('sse');
    latch.close();
    const held = [streamable, sse].map((client) => client.callTool({ name: 'latch__hold', arguments: {} }));
    await latch.held(2);

    const closing = h.gateway.close();

    for (const client of [streamable, sse]) {
      await expect(client.callTool({ name: 'latch__ping', arguments: {} })).rejects.toThrow(/shutting down/);
    }
    // What a client sees on the wire: 503, the JSON-RPC error, and when to try again (elsewhere).
    const sessionId = (streamable.transport as StreamableHTTPClientTransport).sessionId!;
    const refused = await fetch(new URL('/t/acme/mcp', h.gateway.url), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': sessionId,
        'mcp-protocol-version': '2025-06-18',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 99, method: 'tools/list' }),
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toMatchObject({ error: { code: -32000, message: expect.stringContaining('shutting down') } });

    latch.open();
    for (const call of held) expect((await call).content).toEqual([{ type: 'text', text: 'released' }]);
    await closing;
    expect(h.gateway.activeSessions()).toBe(0);
  });

  it('answers every call still running at the grace deadline with a shutting-down error, on both transports', async () => {
    const { h, connect } = await gatewayWith('gw_shutdown_cancel', 200);
    const sessions = await Promise.all((['streamable-http', 'streamable-http', 'sse', 'sse'] as const).map((transport) => connect(transport)));
    latch.close();
    // Settled as they end: they reject while close() is still running.
    const calls = Promise.allSettled(sessions.flatMap((client) => [1, 2, 3, 4].map(() => client.callTool({ name: 'latch__hold', arguments: {} }))));
    await latch.held(16);

    await h.gateway.close();

    const outcomes = await calls;
    expect(outcomes).toHaveLength(16);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      const error = (outcome as PromiseRejectedResult).reason as McpError;
      expect(error).toBeInstanceOf(McpError);
      // Answered by the gateway, not given up on by the client.
      expect(error.code).toBe(ErrorCode.ConnectionClosed);
      expect(error.message).toMatch(/shutting down.*cancelled.*outcome is unknown/);
    }
    expect(h.gateway.activeSessions()).toBe(0);
  });

  it('exits once everything is answered, without waiting for a connection whose client stopped reading a stream', async () => {
    // A keep-alive timeout far beyond the test's: before the fix, close() waited for it.
    const h = await startHarness('gw_shutdown_streams', { HTTP_KEEP_ALIVE_TIMEOUT_MS: '600000', PLUGINS: TESTKIT_PLUGIN });
    const tenant = await h.createTenant('acme');
    await h.install(tenant.id, 'testkit');
    const { token } = await h.issueKey(tenant.id);
    const abort = new AbortController();
    // A tool that reports progress (so the answer is an event stream) and then outlives its timeout.
    const response = await modernRequest(h.gateway.url, '/t/acme/mcp', token, 'tools/call', { name: 'testkit__hang', arguments: {} }, { meta: { progressToken: 1 }, signal: abort.signal });
    await response.body!.getReader().read();
    abort.abort();
    await h.close();
  }, 30_000);
});
