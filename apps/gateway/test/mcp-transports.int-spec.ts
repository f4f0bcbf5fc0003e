import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { connectClient, disconnect, startHarness, type GatewayHarness, type TransportName } from './gateway-harness';

const TRANSPORTS: TransportName[] = ['streamable-http', 'sse'];

describe('gateway MCP transports', () => {
  let h: GatewayHarness;
  let token: string;
  const clients: Client[] = [];

  beforeAll(async () => {
    h = await startHarness('gw_transports');
    const tenant = await h.createTenant('acme');
    await h.install(tenant.id, 'echo');
    await h.install(tenant.id, 'testkit', { greeting: 'hi' }, { token: 's3cret' });
    token = (await h.issueKey(tenant.id)).token;
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => disconnect(c)));
  });

  afterAll(async () => {
    await h.close();
  });

  const connect = async (endpoint: string, transport: TransportName) => {
    const client = await connectClient(h.gateway.url, endpoint, token, transport);
    clients.push(client);
    return client;
  };

  describe.each(TRANSPORTS)('over %s', (transport) => {
    it('lists every enabled plugin’s tools tenant-wide, namespaced {plugin}__{tool}', async () => {
      const client = await connect('/t/acme', transport);
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['echo__echo', 'testkit__boom', 'testkit__whoami']));
      expect(tools.find((t) => t.name === 'echo__echo')?.inputSchema).toMatchObject({ type: 'object', required: ['text'] });
    });

    it('calls a tool tenant-wide', async () => {
      const client = await connect('/t/acme', transport);
      const result = await client.callTool({ name: 'echo__echo', arguments: { text: 'hello' } });
      expect(result.content).toEqual([{ type: 'text', text: 'hello' }]);
    });

    it('exposes one plugin under its own tool names on the per-plugin endpoint', async () => {
      const client = await connect('/t/acme/p/echo', transport);
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(['echo']);
      const result = await client.callTool({ name: 'echo', arguments: { text: 'direct' } });
      expect(result.content).toEqual([{ type: 'text', text: 'direct' }]);
    });

    it('gives handlers the tenant and its config with secrets decrypted', async () => {
      const client = await connect('/t/acme/p/testkit', transport);
      const result = await client.callTool({ name: 'whoami', arguments: {} });
      expect(result.content).toEqual([{ type: 'text', text: 'acme hi s3cret' }]);
    });
  });
});
