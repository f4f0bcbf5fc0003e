import { startHarness, type GatewayHarness } from './gateway-harness';

/** Short enough for a test, long enough that a stream can be opened and read in between. */
const KEEP_ALIVE_MS = 150;
const READ_DEADLINE_MS = 5_000;

/** Reads a streaming response until `text` appears (resolves true) or the deadline passes (false). */
async function streamContains(response: Response, text: string): Promise<boolean> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let seen = '';
  const deadline = setTimeout(() => void reader.cancel(), READ_DEADLINE_MS);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return false;
      seen += decoder.decode(value, { stream: true });
      if (seen.includes(text)) return true;
    }
  } finally {
    clearTimeout(deadline);
    await reader.cancel().catch(() => undefined);
  }
}

describe('keep-alive comments on idle event streams', () => {
  let h: GatewayHarness;
  let token: string;

  beforeAll(async () => {
    h = await startHarness('gw_keepalive', { SSE_KEEPALIVE_MS: String(KEEP_ALIVE_MS) });
    const tenant = await h.createTenant('idle');
    await h.install(tenant.id, 'echo');
    token = (await h.issueKey(tenant.id)).token;
  });
  afterAll(async () => {
    await h.close();
  });

  it('sends them on a legacy SSE stream while nothing else happens', async () => {
    const stream = await fetch(`${h.gateway.url}/t/idle/sse`, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } });
    expect(stream.status).toBe(200);
    expect(await streamContains(stream, ': keep-alive\n\n')).toBe(true);
  });

  it('sends them on a Streamable HTTP GET stream, where the SDK itself sends none', async () => {
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const init = await fetch(`${h.gateway.url}/t/idle/mcp`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'keep-alive-test', version: '1' } } }),
    });
    expect(init.status).toBe(200);
    await init.text();
    const session = { ...headers, 'mcp-session-id': init.headers.get('mcp-session-id')!, 'mcp-protocol-version': '2025-06-18' };
    const initialized = await fetch(`${h.gateway.url}/t/idle/mcp`, { method: 'POST', headers: session, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
    expect(initialized.status).toBe(202);

    const stream = await fetch(`${h.gateway.url}/t/idle/mcp`, { headers: { ...session, accept: 'text/event-stream' } });
    expect(stream.status).toBe(200);
    expect(await streamContains(stream, ': keep-alive\n\n')).toBe(true);
    await fetch(`${h.gateway.url}/t/idle/mcp`, { method: 'DELETE', headers: session });
  });
});
