import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startHarness, type GatewayHarness } from './gateway-harness';
import { approveWithKey, MemoryOAuthProvider } from './oauth-cluster';

/**
 * OAuth sign-in for a virtual server's URL (`/t/{tenant}/v/{name}/mcp`, issue 18): the official
 * SDK client discovers it from the 401 like any tenant URL, the consent page offers the
 * installations the server's tools come from, and the token works there and nowhere else.
 */

const REDIRECT = 'http://127.0.0.1:53683/callback';

describe('OAuth sign-in on a virtual server URL', () => {
  let h: GatewayHarness;
  let key: { token: string; id: string };

  beforeAll(async () => {
    h = await startHarness('gw_oauth_virtual');
    const acme = await h.createTenant('acme');
    await h.install(acme.id, 'echo');
    await h.install(acme.id, 'testkit');
    await h.prisma.virtualServer.create({
      data: { tenantId: acme.id, name: 'curated', tools: [{ source: 'echo__echo', name: 'say', description: 'Says it back.' }] },
    });
    key = await h.issueKey(acme.id);
  });

  afterAll(async () => {
    await h.close();
  });

  it('publishes protected-resource metadata for the virtual URL', async () => {
    const res = await fetch(`${h.gateway.url}/.well-known/oauth-protected-resource/t/acme/v/curated/mcp`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ resource: `${h.gateway.url}/t/acme/v/curated/mcp`, authorization_servers: [h.gateway.url], scopes_supported: ['mcp'] });
  });

  it('signs in, offers only the installations the server draws on, and serves exactly the curated tools', async () => {
    const provider = new MemoryOAuthProvider(REDIRECT, 'virtual test client', 'virtual-state');
    const serverUrl = new URL(`${h.gateway.url}/t/acme/v/curated/mcp`);
    await expect(new Client({ name: 'c', version: '1' }).connect(new StreamableHTTPClientTransport(serverUrl, { authProvider: provider }))).rejects.toThrow();
    expect(provider.authorizationUrl!.searchParams.get('resource')).toBe(serverUrl.href);
    const { callback, offered } = await approveWithKey(provider.authorizationUrl!, key.token);
    // testkit is installed and the key may use it, but no tool of the server comes from it.
    expect(offered).toEqual(['echo']);
    const transport = new StreamableHTTPClientTransport(serverUrl, { authProvider: provider });
    await transport.finishAuth(callback.searchParams.get('code')!);
    const client = new Client({ name: 'c', version: '1' });
    await client.connect(transport);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => [t.name, t.description])).toEqual([['say', 'Says it back.']]);
      const result = await client.callTool({ name: 'say', arguments: { text: 'curated hello' } });
      expect(JSON.stringify(result.content)).toContain('curated hello');
    } finally {
      await transport.terminateSession().catch(() => undefined);
      await client.close();
    }

    // The token's audience is the virtual URL: the tenant-wide URL, where the source tools are, refuses it.
    const elsewhere = await fetch(`${h.gateway.url}/t/acme/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${provider.saved!.access_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }),
    });
    expect(elsewhere.status).toBe(401);
  });

  it('refuses a virtual server that does not exist as the resource', async () => {
    const provider = new MemoryOAuthProvider(REDIRECT, 'virtual test client', 'virtual-state');
    const serverUrl = `${h.gateway.url}/t/acme/v/nope/mcp`;
    expect(await auth(provider, { serverUrl })).toBe('REDIRECT');
    const page = await fetch(provider.authorizationUrl!, { redirect: 'manual' });
    // invalid_target goes back to the client's registered redirect, never shows a consent page.
    expect(page.status).toBe(302);
    expect(new URL(page.headers.get('location')!).searchParams.get('error')).toBe('invalid_target');
  });
});
