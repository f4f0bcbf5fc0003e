import { waitStarts } from './fixtures/testkit-plugin';
import { connectClient, eventually, startHarness, type GatewayHarness } from './gateway-harness';

describe('graceful shutdown', () => {
  let h: GatewayHarness;

  afterAll(async () => {
    await h.close();
  });

  it('lets an in-flight call finish, refuses new sessions meanwhile, then closes every session', async () => {
    h = await startHarness('gw_shutdown', { SHUTDOWN_GRACE_MS: '5000' });
    const tenant = await h.createTenant('acme');
    await h.install(tenant.id, 'testkit');
    const { token } = await h.issueKey(tenant.id);
    const client = await connectClient(h.gateway.url, '/t/acme', token, 'streamable-http');

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
    await client.close();
  });
});
