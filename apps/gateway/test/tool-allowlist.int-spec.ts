import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { publicJwkOf, signAccessToken, type SigningKey } from '../src/auth/oauth-access-token';
import { connectClient, disconnect, startHarness, type GatewayHarness, type TransportName } from './gateway-harness';
import { modernAnswer, modernRequest } from './modern-request';

// The attacker's side of a key's tool allowlist (issue 18): a key that may use only
// `kit__whoami` tries to list and call its neighbours (`kit__boom` of the same installation,
// `echo__echo` of another) by every URL, in every era, with a tenant token it mints and with an
// OAuth access token of a grant made by signing in with it. A hidden tool must be refused exactly
// like a tool that does not exist, so the refusal is no oracle for what the tenant has.
describe('a key restricted to one tool', () => {
  let h: GatewayHarness;
  let acme: { id: string };
  let key: { token: string; id: string };
  let signing: SigningKey;
  const clients: Client[] = [];
  const ALLOWED = 'kit__whoami';

  beforeAll(async () => {
    h = await startHarness('gw_tool_allowlist');
    acme = await h.createTenant('acme');
    await h.install(acme.id, 'testkit', {}, undefined, 'kit');
    await h.install(acme.id, 'echo');
    key = await h.issueKey(acme.id, { tools: [ALLOWED] });
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    signing = { kid: `test-${randomUUID()}`, key: privateKey };
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    await h.prisma.oAuthSigningKey.create({
      data: { id: signing.kid, publicJwk: publicJwkOf(signing) as object, privateKey: h.secretBox.encrypt({ pem }, `oauth-signing-key/${signing.kid}`), retiredAt: new Date() },
    });
    await h.prisma.oAuthClient.create({ data: { id: 'sbc_test', kind: 'registered', name: 'test client', redirectUris: ['http://127.0.0.1/cb'] } });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => disconnect(c)));
  });
  afterAll(async () => {
    await h.close();
  });

  /** An access token of a grant made by signing in with the restricted key, for `path`'s URL. */
  async function oauthToken(path: string, scope = 'mcp plugin:kit plugin:echo'): Promise<string> {
    const resource = `${h.gateway.url}${path}`;
    const grant = await h.prisma.oAuthGrant.create({
      data: { tenantId: acme.id, clientId: 'sbc_test', keyId: key.id, subject: `key:${key.id}`, scopes: scope.split(' '), resource },
    });
    const now = Math.floor(Date.now() / 1000);
    return signAccessToken(
      { iss: new URL(h.gateway.url).origin, aud: resource, sub: `key:${key.id}`, client_id: 'sbc_test', scope, tenant: acme.id, grant: grant.id, key: key.id, iat: now, exp: now + 600, jti: randomUUID() },
      signing,
    );
  }
  const tenantToken = () => h.tokens.mint({ tenantId: acme.id, keyId: key.id, subject: 'user-1' }).token;

  /** The credentials the key yields, for an endpoint (an OAuth token is bound to its exact URL). */
  async function credentials(path: string, transport: TransportName = 'streamable-http'): Promise<[string, string][]> {
    return [
      ['API key', key.token],
      ['tenant token', tenantToken()],
      ['OAuth token', await oauthToken(`${path}/${transport === 'sse' ? 'sse' : 'mcp'}`)],
    ];
  }

  /** The refusal a 2025 client sees for a call, with the tool's name taken out. */
  async function refusal(c: Client, name: string): Promise<{ code: number; message: string }> {
    const error = await c.callTool({ name, arguments: {} }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(McpError);
    return { code: (error as McpError).code, message: (error as McpError).message.replace(name, '<tool>') };
  }

  describe.each<TransportName>(['streamable-http', 'sse'])('2025 %s', (transport) => {
    it.each(['API key', 'tenant token', 'OAuth token'])('on the tenant-wide URL with the %s: lists only the allowed tool; its neighbours answer as unknown tools', async (which) => {
      const [, token] = (await credentials('/t/acme', transport)).find(([label]) => label === which)!;
      const c = await connectClient(h.gateway.url, '/t/acme', token, transport);
      clients.push(c);
      expect((await c.listTools()).tools.map((t) => t.name)).toEqual([ALLOWED]);
      expect((await c.callTool({ name: ALLOWED, arguments: {} })).isError).toBeFalsy();
      const unknown = await refusal(c, 'kit__no_such_tool');
      expect(await refusal(c, 'kit__boom')).toEqual(unknown);
      expect(await refusal(c, 'echo__echo')).toEqual(unknown);
    });

    it.each(['API key', 'tenant token', 'OAuth token'])('on the plugin URLs with the %s: the same tool by its own name, nothing else', async (which) => {
      const kitToken = (await credentials('/t/acme/p/kit', transport)).find(([label]) => label === which)![1];
      const kit = await connectClient(h.gateway.url, '/t/acme/p/kit', kitToken, transport);
      clients.push(kit);
      expect((await kit.listTools()).tools.map((t) => t.name)).toEqual(['whoami']);
      const unknown = await refusal(kit, 'no_such_tool');
      expect(await refusal(kit, 'boom')).toEqual(unknown);
      // The namespaced name is not a name on a plugin URL either.
      expect(await refusal(kit, ALLOWED)).toEqual(unknown);
      const echoToken = (await credentials('/t/acme/p/echo', transport)).find(([label]) => label === which)![1];
      const echo = await connectClient(h.gateway.url, '/t/acme/p/echo', echoToken, transport);
      clients.push(echo);
      expect((await echo.listTools()).tools).toEqual([]);
      expect(await refusal(echo, 'echo')).toEqual(await refusal(echo, 'no_such_tool'));
    });
  });

  describe('2026-07-28 stateless wire', () => {
    const modern = (path: string, token: string, method: string, params: Record<string, unknown> = {}) => modernRequest(h.gateway.url, path, token, method, params).then(modernAnswer);
    const cases: [string, string, string, string][] = [
      // [URL, allowed tool, neighbour of the same installation, tool of another installation]
      ['/t/acme/mcp', ALLOWED, 'kit__boom', 'echo__echo'],
      ['/t/acme/p/kit/mcp', 'whoami', 'boom', ALLOWED],
    ];

    it.each(cases)('on %s: lists only the allowed tool and refuses the others exactly like an unknown one, with every credential', async (path, allowed, neighbour, other) => {
      for (const [, token] of await credentials(path.replace(/\/mcp$/, ''))) {
        const listed = await modern(path, token, 'tools/list');
        expect(listed.result?.['tools'].map((t: { name: string }) => t.name)).toEqual([allowed]);
        expect((await modern(path, token, 'tools/call', { name: allowed, arguments: {} })).result?.['isError']).toBeFalsy();
        const masked = async (name: string) => {
          const answer = await modern(path, token, 'tools/call', { name, arguments: {} });
          return { code: answer.error?.code, message: answer.error?.message.replace(name, '<tool>') };
        };
        const unknown = await masked('no_such_tool');
        expect(unknown.code).toEqual(expect.any(Number));
        expect(await masked(neighbour)).toEqual(unknown);
        expect(await masked(other)).toEqual(unknown);
      }
    });

    it('shows nothing on the URL of an installation without allowed tools', async () => {
      for (const [, token] of await credentials('/t/acme/p/echo')) {
        expect((await modern('/t/acme/p/echo/mcp', token, 'tools/list')).result?.['tools']).toEqual([]);
      }
    });
  });

  it('gives an unrestricted key of the same tenant every tool, so the restriction is the allowlist', async () => {
    const open = await connectClient(h.gateway.url, '/t/acme', (await h.issueKey(acme.id)).token, 'streamable-http');
    clients.push(open);
    expect((await open.listTools()).tools.map((t) => t.name)).toEqual(expect.arrayContaining([ALLOWED, 'kit__boom', 'echo__echo']));
  });

  it('offers a narrowed OAuth token no step-up for a tool outside the allowlist: it stays an unknown tool', async () => {
    const narrowed = await oauthToken('/t/acme/mcp', 'mcp plugin:kit');
    const answer = await modernRequest(h.gateway.url, '/t/acme/mcp', narrowed, 'tools/call', { name: 'echo__echo', arguments: { text: 'x' } });
    expect(answer.status).toBe(200);
    expect((await modernAnswer(answer)).error?.message).toMatch(/Unknown tool/);
  });
});
