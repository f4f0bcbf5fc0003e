import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { startHarness, type GatewayHarness } from './gateway-harness';

/** Small, so the over-limit body stays cheap to send. */
const MAX_BODY_BYTES = 64 * 1024;

describe('gateway answers bad input with the right status, and keeps working', () => {
  let h: GatewayHarness;
  let token: string;

  beforeAll(async () => {
    h = await startHarness('gw_bad_input', { MAX_BODY_BYTES: String(MAX_BODY_BYTES) });
    const tenant = await h.createTenant('acme');
    await h.install(tenant.id, 'echo');
    token = (await h.issueKey(tenant.id)).token;
  });

  afterAll(async () => {
    await h.close();
  });

  const send = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(new URL(path, h.gateway.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      body,
    });

  const jsonRpcError = async (response: Response) => ((await response.json()) as { error: { code: number } }).error.code;

  it('answers malformed JSON with 400 and a JSON-RPC parse error', async () => {
    const response = await send('/t/acme/mcp', '{"jsonrpc": "2.0", "id": 1,');
    expect(response.status).toBe(400);
    expect(await jsonRpcError(response)).toBe(-32700);
  });

  it('answers an invalid JSON-RPC envelope with 400 and -32600', async () => {
    const response = await send('/t/acme/mcp', JSON.stringify({ hello: 'world' }));
    expect(response.status).toBe(400);
    expect(await jsonRpcError(response)).toBe(-32600);
  });

  it('answers a non-JSON content type with 415', async () => {
    const response = await send('/t/acme/mcp', 'hello', { 'content-type': 'text/plain' });
    expect(response.status).toBe(415);
    await response.body?.cancel();
  });

  it('answers a body over the limit with 413', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(MAX_BODY_BYTES) } });
    const response = await send('/t/acme/mcp', big);
    expect(response.status).toBe(413);
    await response.body?.cancel();
  });

  it('answers a non-initialize request without a session header with 400', async () => {
    const response = await send('/t/acme/mcp', JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }));
    expect(response.status).toBe(400);
    await response.body?.cancel();
  });

  it('answers an unknown session with 404, on both transports', async () => {
    const headers = { 'mcp-session-id': 'no-such-session', 'mcp-protocol-version': LATEST_PROTOCOL_VERSION };
    const streamable = await send('/t/acme/mcp', JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }), headers);
    expect(streamable.status).toBe(404);
    const legacy = await send('/t/acme/messages?sessionId=no-such-session', JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }));
    expect(legacy.status).toBe(404);
    await Promise.all([streamable.body?.cancel(), legacy.body?.cancel()]);
  });

  it('answers a legacy POST without sessionId with 400', async () => {
    const response = await send('/t/acme/messages', JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }));
    expect(response.status).toBe(400);
    await response.body?.cancel();
  });

  it('still serves a well-formed request afterwards', async () => {
    const response = await send(
      '/t/acme/mcp',
      JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
      }),
    );
    expect(response.status).toBe(200);
    await response.body?.cancel();
  });

  it('reports health and readiness without credentials', async () => {
    expect((await fetch(new URL('/healthz', h.gateway.url))).status).toBe(200);
    const ready = await fetch(new URL('/readyz', h.gateway.url));
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, checks: { database: 'ok', sessions: 'ok' } });
    expect(await (await fetch(new URL('/', h.gateway.url))).json()).toMatchObject({ name: 'switchboard-gateway', status: 'ok' });
  });
});
