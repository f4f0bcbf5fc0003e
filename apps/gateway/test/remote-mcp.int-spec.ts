import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { connectClient, disconnect, eventually, startHarness, type GatewayHarness } from './gateway-harness';
import { firstText } from '@switchboard/testing';


// Tenant "front" federates tenant "back"'s tenant URL on the same gateway with back's API key.
// Loopback is opened for plugins explicitly (OUTBOUND_ALLOW_CIDRS); it is refused by default.
describe('remote-mcp plugin federating another tenant\'s gateway endpoint', () => {
  let h: GatewayHarness;
  let front: Client;
  let back: { id: string };

  beforeAll(async () => {
    h = await startHarness('remote_mcp', { OUTBOUND_ALLOW_CIDRS: '127.0.0.1/32' });
    back = await h.createTenant('back');
    await h.install(back.id, 'echo');
    const backKey = await h.issueKey(back.id);
    const frontTenant = await h.createTenant('front');
    await h.install(frontTenant.id, 'remote-mcp', { url: `${h.gateway.url}/t/back/mcp` }, { bearerToken: backKey.token });
    const stranger = await h.createTenant('stranger');
    await h.install(stranger.id, 'remote-mcp', { url: `${h.gateway.url}/t/back/mcp` }, { bearerToken: 'sbk_not-a-real-key' });
    front = await connectClient(h.gateway.url, '/t/front', (await h.issueKey(frontTenant.id)).token, 'streamable-http');
  });
  afterAll(async () => {
    await disconnect(front);
    await h.close();
  });

  const names = async (client: Client) => (await client.listTools()).tools.map((t) => t.name);

  it('lists the upstream\'s tools as its own, namespaced, and calls them with the tenant\'s bearer token', async () => {
    const { tools } = await front.listTools();
    const echo = tools.find((t) => t.name === 'remote-mcp__echo__echo');
    expect(echo?.inputSchema).toMatchObject({ type: 'object', properties: { text: { type: 'string' } }, required: ['text'] });
    expect(firstText(await front.callTool({ name: 'remote-mcp__echo__echo', arguments: { text: 'over the bridge' } }))).toBe('over the bridge');
  });

  it('shows the upstream\'s own tool names on the plugin\'s endpoint', async () => {
    const { token } = await h.issueKey((await h.prisma.tenant.findUniqueOrThrow({ where: { slug: 'front' } })).id);
    const own = await connectClient(h.gateway.url, '/t/front/p/remote-mcp', token, 'sse');
    try {
      expect(await names(own)).toEqual(['echo__echo']);
      expect(firstText(await own.callTool({ name: 'echo__echo', arguments: { text: 'direct' } }))).toBe('direct');
    } finally {
      await disconnect(own);
    }
  });

  it('turns upstream errors into tool errors', async () => {
    const invalid = await front.callTool({ name: 'remote-mcp__echo__echo', arguments: { text: 42 } });
    expect(invalid).toMatchObject({ isError: true, content: [{ text: expect.stringMatching(/Upstream MCP server error/) }] });
  });

  it('does not reach the upstream with a wrong token, and shows none of its tools', async () => {
    const { token } = await h.issueKey((await h.prisma.tenant.findUniqueOrThrow({ where: { slug: 'stranger' } })).id);
    const stranger = await connectClient(h.gateway.url, '/t/stranger', token, 'streamable-http');
    try {
      expect((await names(stranger)).filter((name) => name.startsWith('remote-mcp__'))).toEqual([]);
    } finally {
      await disconnect(stranger);
    }
  });

  it('tells open sessions to list again when the upstream announces list_changed', async () => {
    let announced = 0;
    front.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      announced++;
    });
    await h.install(back.id, 'notes');
    await h.bus.publish({ type: 'plugins.changed', tenantId: back.id });
    await eventually(() => announced > 0);
    await eventually(async () => (await names(front)).includes('remote-mcp__notes__add'));
  });
});
