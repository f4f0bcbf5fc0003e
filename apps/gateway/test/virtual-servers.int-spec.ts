import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { publicJwkOf, signAccessToken, type SigningKey } from '../src/auth/oauth-access-token';
import { connectClient, disconnect, startHarness, type GatewayHarness, type TransportName } from './gateway-harness';
import { eventually, firstText } from '@switchboard/testing';
import { modernAnswer, modernRequest } from './modern-request';


const INITIALIZE = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } };

// Virtual servers (issue 18): tenant "acme" has echo installed twice (`echo`, `echo-b`) and the
// testkit plugin as `kit`; its virtual server `curated` offers echo's tool renamed `say` with its
// own description, and kit's `whoami` as it is. On /t/acme/v/curated/… every era sees exactly
// those two; the source names, the neighbours and the other installation answer as tools that
// do not exist, and a session opened there cannot be used through another URL.
describe('virtual servers', () => {
  let h: GatewayHarness;
  let acme: { id: string };
  let token: string;
  const clients: Client[] = [];
  const CURATED = [{ source: 'echo__echo', name: 'say', description: 'Says it back' }, { source: 'kit__whoami', name: 'whoami' }];

  beforeAll(async () => {
    h = await startHarness('gw_virtual_servers');
    acme = await h.createTenant('acme');
    await h.install(acme.id, 'echo');
    await h.install(acme.id, 'echo', {}, undefined, 'echo-b');
    await h.install(acme.id, 'testkit', {}, undefined, 'kit');
    await h.prisma.virtualServer.create({ data: { tenantId: acme.id, name: 'curated', tools: CURATED } });
    token = (await h.issueKey(acme.id)).token;
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => disconnect(c)));
  });
  afterAll(async () => {
    await h.close();
  });

  async function client(path: string, transport: TransportName, as = token): Promise<Client> {
    const c = await connectClient(h.gateway.url, path, as, transport);
    clients.push(c);
    return c;
  }

  /** The refusal a 2025 client sees for a call, with the tool's name taken out. */
  async function refusal(c: Client, name: string): Promise<{ code: number; message: string }> {
    const error = await c.callTool({ name, arguments: { text: 'x' } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(McpError);
    return { code: (error as McpError).code, message: (error as McpError).message.replace(name, '<tool>') };
  }

  describe.each<TransportName>(['streamable-http', 'sse'])('2025 %s', (transport) => {
    it('lists exactly the curated tools, renamed and re-described, and calls run their sources', async () => {
      const c = await client('/t/acme/v/curated', transport);
      const { tools } = await c.listTools();
      expect(tools.map((t) => [t.name, t.description])).toEqual([
        ['say', 'Says it back'],
        ['whoami', 'Returns the tenant and the config it was given'],
      ]);
      expect(tools[0]!.inputSchema).toMatchObject({ properties: { text: expect.any(Object) } });
      expect(firstText(await c.callTool({ name: 'say', arguments: { text: 'via the virtual server' } }))).toBe('via the virtual server');
      expect(firstText(await c.callTool({ name: 'whoami', arguments: {} }))).toMatch(/^acme /);
    });

    it('answers the old names, the neighbours and other installations exactly like a tool that does not exist', async () => {
      const c = await client('/t/acme/v/curated', transport);
      const unknown = await refusal(c, 'no-such-tool');
      for (const name of ['echo', 'echo__echo', 'echo-b__echo', 'kit__whoami', 'boom', 'kit__boom']) expect(await refusal(c, name)).toEqual(unknown);
    });
  });

  it('serves the 2026-07-28 wire on the same URL, with the same view', async () => {
    const listed = await modernAnswer(await modernRequest(h.gateway.url, '/t/acme/v/curated/mcp', token, 'tools/list'));
    expect(listed.result?.['tools'].map((t: { name: string; description: string }) => [t.name, t.description])).toEqual([
      ['say', 'Says it back'],
      ['whoami', 'Returns the tenant and the config it was given'],
    ]);
    const called = await modernAnswer(await modernRequest(h.gateway.url, '/t/acme/v/curated/mcp', token, 'tools/call', { name: 'say', arguments: { text: 'modern' } }));
    expect(called.result?.['content'][0].text).toBe('modern');
    const unknown = await modernAnswer(await modernRequest(h.gateway.url, '/t/acme/v/curated/mcp', token, 'tools/call', { name: 'no-such-tool', arguments: {} }));
    for (const name of ['echo__echo', 'echo', 'kit__boom']) {
      const old = await modernAnswer(await modernRequest(h.gateway.url, '/t/acme/v/curated/mcp', token, 'tools/call', { name, arguments: { text: 'x' } }));
      expect(old.error?.code).toBe(unknown.error?.code);
      expect(old.error?.message.replace(name, '<tool>')).toBe(unknown.error?.message.replace('no-such-tool', '<tool>'));
    }
  });

  it("refuses another tenant's key as it refuses an unknown tenant, and an unknown virtual server as not found", async () => {
    const evil = await h.createTenant('evil');
    const evilKey = (await h.issueKey(evil.id)).token;
    const post = (path: string, as: string) =>
      fetch(`${h.gateway.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${as}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify(INITIALIZE),
      });
    expect((await post('/t/acme/v/curated/mcp', evilKey)).status).toBe(404);
    expect((await post('/t/acme/v/curated/mcp', 'sbk_not_a_key')).status).toBe(401);
    expect((await post('/t/acme/v/nope/mcp', token)).status).toBe(404);
    // The other tenant naming its own tenant gets nothing of acme's server either.
    expect((await post('/t/evil/v/curated/mcp', evilKey)).status).toBe(404);
    const sse = await fetch(`${h.gateway.url}/t/acme/v/nope/sse`, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } });
    expect(sse.status).toBe(404);
    const modern = await modernRequest(h.gateway.url, '/t/acme/v/curated/mcp', evilKey, 'tools/list');
    expect(modern.status).toBe(404);
    expect((await modernRequest(h.gateway.url, '/t/acme/v/nope/mcp', token, 'tools/list')).status).toBe(404);
  });

  it('gives a key with a tool allowlist the intersection of the server and its tools', async () => {
    const echoOnly = (await h.issueKey(acme.id, { tools: ['echo__echo'] })).token;
    const c = await client('/t/acme/v/curated', 'streamable-http', echoOnly);
    expect((await c.listTools()).tools.map((t) => t.name)).toEqual(['say']);
    expect(await refusal(c, 'whoami')).toEqual(await refusal(c, 'no-such-tool'));
    // A key allowed only tools the server does not offer sees an empty server, not the tenant's.
    const otherOnly = (await h.issueKey(acme.id, { tools: ['echo-b__echo'] })).token;
    expect((await (await client('/t/acme/v/curated', 'sse', otherOnly)).listTools()).tools).toEqual([]);
    const installationOnly = (await h.issueKey(acme.id, { plugins: ['kit'] })).token;
    expect((await (await client('/t/acme/v/curated', 'streamable-http', installationOnly)).listTools()).tools.map((t) => t.name)).toEqual(['whoami']);
  });

  it('keeps a session to the URL it was opened on: its id is unknown on the tenant-wide and installation URLs', async () => {
    const opened = await fetch(`${h.gateway.url}/t/acme/v/curated/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify(INITIALIZE),
    });
    const sessionId = opened.headers.get('mcp-session-id')!;
    await opened.text();
    expect(sessionId).toBeTruthy();
    const call = (path: string) =>
      fetch(`${h.gateway.url}${path}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-session-id': sessionId,
          'mcp-protocol-version': '2025-06-18',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
      });
    expect((await call('/t/acme/mcp')).status).toBe(404);
    expect((await call('/t/acme/p/echo/mcp')).status).toBe(404);
    const same = await call('/t/acme/v/curated/mcp');
    expect(same.status).toBe(200);
    expect(await same.text()).toContain('"say"');
  });

  it('shows open sessions a changed server after the plugins.changed event, and an empty one once it is deleted', async () => {
    const c = await client('/t/acme/v/curated', 'streamable-http');
    expect((await c.listTools()).tools.map((t) => t.name)).toEqual(['say', 'whoami']);
    await h.prisma.virtualServer.update({ where: { tenantId_name: { tenantId: acme.id, name: 'curated' } }, data: { tools: [{ source: 'echo-b__echo', name: 'shout' }] } });
    await h.bus.publish({ type: 'plugins.changed', tenantId: acme.id });
    try {
      await eventually(async () => (await c.listTools()).tools.map((t) => t.name).join() === 'shout');
      expect(firstText(await c.callTool({ name: 'shout', arguments: { text: 'b' } }))).toBe('b');
      expect(await refusal(c, 'say')).toEqual(await refusal(c, 'no-such-tool'));
      await h.prisma.virtualServer.delete({ where: { tenantId_name: { tenantId: acme.id, name: 'curated' } } });
      await h.bus.publish({ type: 'plugins.changed', tenantId: acme.id });
      await eventually(async () => (await c.listTools()).tools.length === 0);
    } finally {
      await h.prisma.virtualServer.upsert({
        where: { tenantId_name: { tenantId: acme.id, name: 'curated' } },
        create: { tenantId: acme.id, name: 'curated', tools: CURATED },
        update: { tools: CURATED },
      });
      await h.bus.publish({ type: 'plugins.changed', tenantId: acme.id });
    }
  });

  describe('a key restricted to the virtual server and one of its tools', () => {
    let key: { token: string; id: string };
    let signing: SigningKey;

    beforeAll(async () => {
      // A sibling server offering the neighbours under their old names: the key must not reach them there either.
      await h.prisma.virtualServer.create({ data: { tenantId: acme.id, name: 'sibling', tools: [{ source: 'echo__echo', name: 'echo' }, { source: 'kit__boom', name: 'boom' }] } });
      key = await h.issueKey(acme.id, { tools: ['echo__echo'] });
      await h.prisma.apiKey.update({ where: { id: key.id }, data: { virtualServers: ['curated'] } });
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      signing = { kid: `test-${randomUUID()}`, key: privateKey };
      const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
      await h.prisma.oAuthSigningKey.create({
        data: { id: signing.kid, publicJwk: publicJwkOf(signing) as object, privateKey: h.secretBox.encrypt({ pem }, `oauth-signing-key/${signing.kid}`), retiredAt: new Date() },
      });
      await h.prisma.oAuthClient.create({ data: { id: 'sbc_virtual', kind: 'registered', name: 'test client', redirectUris: ['http://127.0.0.1/cb'] } });
    });

    /** An access token of a grant made by signing in with the restricted key, for the URL `path`. */
    async function oauthToken(path: string): Promise<string> {
      const resource = `${h.gateway.url}${path}`;
      const scope = 'mcp';
      const grant = await h.prisma.oAuthGrant.create({ data: { tenantId: acme.id, clientId: 'sbc_virtual', keyId: key.id, subject: `key:${key.id}`, scopes: [scope], resource } });
      const now = Math.floor(Date.now() / 1000);
      return signAccessToken(
        { iss: new URL(h.gateway.url).origin, aud: resource, sub: `key:${key.id}`, client_id: 'sbc_virtual', scope, tenant: acme.id, grant: grant.id, key: key.id, iat: now, exp: now + 600, jti: randomUUID() },
        signing,
      );
    }
    const credentials = async (path: string): Promise<[string, string][]> => [
      ['API key', key.token],
      ['tenant token', h.tokens.mint({ tenantId: acme.id, keyId: key.id, subject: 'user-1' }).token],
      ['OAuth token', await oauthToken(path)],
    ];

    it.each(['API key', 'tenant token', 'OAuth token'])('with the %s: sees only its tool on its server, in both eras', async (which) => {
      const [, as] = (await credentials('/t/acme/v/curated/mcp')).find(([label]) => label === which)!;
      const c = await client('/t/acme/v/curated', 'streamable-http', as);
      expect((await c.listTools()).tools.map((t) => t.name)).toEqual(['say']);
      expect(firstText(await c.callTool({ name: 'say', arguments: { text: 'allowed' } }))).toBe('allowed');
      expect(await refusal(c, 'whoami')).toEqual(await refusal(c, 'no-such-tool'));
      const modern = await modernAnswer(await modernRequest(h.gateway.url, '/t/acme/v/curated/mcp', as, 'tools/call', { name: 'say', arguments: { text: 'modern' } }));
      expect(modern.result?.['content'][0].text).toBe('modern');
    });

    it.each(['API key', 'tenant token', 'OAuth token'])('with the %s: is refused on every other URL of the tenant, in every era', async (which) => {
      for (const path of ['/t/acme', '/t/acme/p/echo', '/t/acme/p/kit', '/t/acme/v/sibling', '/t/acme/v/nope']) {
        for (const endpoint of ['mcp', 'sse']) {
          const [, as] = (await credentials(`${path}/${endpoint}`)).find(([label]) => label === which)!;
          const legacy =
            endpoint === 'mcp'
              ? await fetch(`${h.gateway.url}${path}/mcp`, {
                  method: 'POST',
                  headers: { authorization: `Bearer ${as}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
                  body: JSON.stringify(INITIALIZE),
                })
              : await fetch(`${h.gateway.url}${path}/sse`, { headers: { authorization: `Bearer ${as}`, accept: 'text/event-stream' } });
          expect([path, endpoint, legacy.status]).toEqual([path, endpoint, 403]);
          await legacy.body?.cancel();
          if (endpoint === 'mcp') {
            const modern = await modernRequest(h.gateway.url, `${path}/mcp`, as, 'tools/call', { name: 'echo', arguments: { text: 'x' } });
            expect([path, modern.status]).toEqual([path, 403]);
            await modern.body?.cancel();
          }
        }
      }
    });
  });
});
