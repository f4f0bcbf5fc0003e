import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import jwt from 'jsonwebtoken';
import { TENANT_TOKEN_AUDIENCE, TENANT_TOKEN_CLOCK_SKEW_SECONDS, TENANT_TOKEN_ISSUER, TENANT_TOKEN_MAX_TTL_SECONDS } from '@switchboard/api-keys';
import { connectClient, disconnect, eventually, startHarness, type GatewayHarness } from './gateway-harness';

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};
const ALLOWED_ORIGIN = 'https://app.example.com';

describe('gateway authentication and authorization', () => {
  let h: GatewayHarness;
  let acme: { id: string; slug: string };
  let acmeKey: { token: string; id: string };
  let otherAcmeKey: { token: string; id: string };
  let globexKey: { token: string; id: string };
  let echoOnlyKey: { token: string; id: string };
  const clients: Client[] = [];

  beforeAll(async () => {
    h = await startHarness('gw_auth', { ALLOWED_ORIGINS: ALLOWED_ORIGIN });
    acme = await h.createTenant('acme');
    const globex = await h.createTenant('globex');
    await h.install(acme.id, 'echo');
    await h.install(acme.id, 'testkit');
    await h.install(globex.id, 'echo');
    acmeKey = await h.issueKey(acme.id);
    otherAcmeKey = await h.issueKey(acme.id);
    globexKey = await h.issueKey(globex.id);
    echoOnlyKey = await h.issueKey(acme.id, { plugins: ['echo'] });
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => disconnect(c)));
  });

  afterAll(async () => {
    await h.close();
  });

  const post = (path: string, options: { token?: string; headers?: Record<string, string>; body?: unknown } = {}) =>
    fetch(new URL(path, h.gateway.url), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...options.headers,
      },
      body: JSON.stringify(options.body ?? INITIALIZE),
    });

  /** Opens a Streamable HTTP session with raw requests and returns its id. */
  const openSession = async (token: string, path = '/t/acme/mcp') => {
    const response = await post(path, { token });
    expect(response.status).toBe(200);
    await response.body?.cancel();
    return response.headers.get('mcp-session-id')!;
  };

  const listToolsIn = (sessionId: string, token: string, path = '/t/acme/mcp') =>
    post(path, {
      token,
      headers: { 'mcp-session-id': sessionId, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION },
      body: { jsonrpc: '2.0', id: 2, method: 'tools/list' },
    });

  it('answers a request without a token with 401, a Bearer challenge and resource metadata', async () => {
    const response = await post('/t/acme/mcp');
    expect(response.status).toBe(401);
    const challenge = response.headers.get('www-authenticate')!;
    expect(challenge).toMatch(/^Bearer /);
    expect(challenge).not.toMatch(/error=/);
    const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge)![1];
    expect(metadataUrl).toBe(`${h.gateway.url}/.well-known/oauth-protected-resource/t/acme/mcp`);
    const metadata = await (await fetch(metadataUrl)).json();
    expect(metadata).toMatchObject({ resource: `${h.gateway.url}/t/acme/mcp`, bearer_methods_supported: ['header'] });
  });

  it.each([
    ['malformed', 'not-a-key'],
    ['unknown', 'sbk_AAAAAAAAAAAAAAAAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB_CCCCCC'],
  ])('refuses a %s token with 401 invalid_token', async (_label, token) => {
    const response = await post('/t/acme/mcp', { token });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
  });

  it('refuses a revoked key with 401 and closes the sessions it opened', async () => {
    const key = await h.issueKey(acme.id);
    // Counted per key: sessions of earlier tests may still be closing.
    const ofKey = { keyId: key.id };
    clients.push(await connectClient(h.gateway.url, '/t/acme', key.token, 'sse'));
    clients.push(await connectClient(h.gateway.url, '/t/acme', key.token, 'streamable-http'));
    expect(h.gateway.activeSessions(ofKey)).toBe(2);
    await h.prisma.apiKey.update({ where: { id: key.id }, data: { revokedAt: new Date() } });
    await h.bus.publish({ type: 'api-key.revoked', tenantId: acme.id, keyId: key.id });
    await eventually(() => h.gateway.activeSessions(ofKey) === 0);
    const response = await post('/t/acme/mcp', { token: key.token });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/revoked/);
  });

  it('refuses an expired key with 401', async () => {
    const key = await h.issueKey(acme.id, { expiresAt: new Date(Date.now() - 1000) });
    const response = await post('/t/acme/mcp', { token: key.token });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/expired/);
  });

  it('does not accept a token in the query string', async () => {
    const response = await post(`/t/acme/mcp?access_token=${acmeKey.token}&api_key=${acmeKey.token}`);
    expect(response.status).toBe(401);
  });

  it('answers 404 to a key of another tenant, exactly as for a tenant that does not exist', async () => {
    const foreign = await post('/t/acme/mcp', { token: globexKey.token });
    const missing = await post('/t/no-such-tenant/mcp', { token: globexKey.token });
    expect(foreign.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(await foreign.json()).toEqual(await missing.json());
  });

  it('answers 403 for a plugin the key may not use, and 404 for a plugin the tenant has not enabled', async () => {
    expect((await post('/t/acme/p/testkit/mcp', { token: echoOnlyKey.token })).status).toBe(403);
    expect((await post('/t/acme/p/conformance/mcp', { token: acmeKey.token })).status).toBe(404);
  });

  it('narrows the tenant-wide endpoint to the key’s plugins', async () => {
    const client = await connectClient(h.gateway.url, '/t/acme', echoOnlyKey.token, 'streamable-http');
    clients.push(client);
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['echo__echo']);
  });

  it('answers 404 when another key of the same tenant uses a live session', async () => {
    const sessionId = await openSession(acmeKey.token);
    expect((await listToolsIn(sessionId, acmeKey.token)).status).toBe(200);
    expect((await listToolsIn(sessionId, otherAcmeKey.token)).status).toBe(404);
    expect((await listToolsIn(sessionId, globexKey.token)).status).toBe(404);
  });

  it('answers 404 when another key posts into a live legacy SSE session', async () => {
    const client = await connectClient(h.gateway.url, '/t/acme', acmeKey.token, 'sse');
    clients.push(client);
    const sessionId = (client.transport as unknown as { _endpoint: URL })._endpoint.searchParams.get('sessionId')!;
    const ping = { jsonrpc: '2.0', id: 9, method: 'ping' };
    expect((await post(`/t/acme/messages?sessionId=${sessionId}`, { token: otherAcmeKey.token, body: ping })).status).toBe(404);
    expect((await post(`/t/acme/messages?sessionId=${sessionId}`, { token: acmeKey.token, body: ping })).status).toBe(202);
  });

  it('accepts a tenant token and binds the session to its subject', async () => {
    const alice = h.tokens.mint({ tenantId: acme.id, keyId: acmeKey.id, subject: 'alice' }).token;
    const bob = h.tokens.mint({ tenantId: acme.id, keyId: acmeKey.id, subject: 'bob' }).token;
    const client = await connectClient(h.gateway.url, '/t/acme', alice, 'streamable-http');
    clients.push(client);
    expect((await client.callTool({ name: 'echo__echo', arguments: { text: 'jwt' } })).content).toEqual([{ type: 'text', text: 'jwt' }]);
    const sessionId = await openSession(alice);
    expect((await listToolsIn(sessionId, alice)).status).toBe(200);
    expect((await listToolsIn(sessionId, bob)).status).toBe(404);
    expect((await listToolsIn(sessionId, acmeKey.token)).status).toBe(404);
  });

  it('refuses a tenant token whose signature was tampered with', async () => {
    const forged = h.tokens.mint({ tenantId: acme.id, keyId: acmeKey.id, subject: 'eve' }).token.replace(/.{4}$/, 'AAAA');
    expect((await post('/t/acme/mcp', { token: forged })).status).toBe(401);
  });

  describe('Authorization header syntax (RFC 6750 §2.1: "Bearer" SP b64token, nothing else)', () => {
    const tokenOf = (kind: string) => (kind === 'api key' ? acmeKey.token : h.tokens.mint({ tenantId: acme.id, keyId: acmeKey.id, subject: 'alice' }).token);
    const withHeader = (authorization: string) => post('/t/acme/mcp', { headers: { authorization } });

    it.each(['api key', 'tenant token'])('accepts an %s under a lower-case scheme name', async (kind) => {
      const response = await withHeader(`bearer ${tokenOf(kind)}`);
      expect(response.status).toBe(200);
      await response.body?.cancel();
    });

    describe.each(['api key', 'tenant token'])('around a valid %s', (kind) => {
      it.each([
        ['trailing garbage', (t: string) => `Bearer ${t} extra-garbage`],
        ['a second token', (t: string) => `Bearer ${t} ${t}`],
        ['a comma-joined second credential', (t: string) => `Bearer ${t}, Bearer ${t}`],
        ['two spaces after the scheme', (t: string) => `Bearer  ${t}`],
        ['a tab after the scheme', (t: string) => `Bearer\t${t}`],
        ['a no-break space after the token', (t: string) => `Bearer ${t}\u00a0`],
      ])('refuses %s with 401 as a malformed credential', async (_label, header) => {
        const response = await withHeader(header(tokenOf(kind)));
        expect(response.status).toBe(401);
        expect(response.headers.get('www-authenticate')).toMatch(/error="invalid_token", error_description="The bearer token is malformed"/);
      });
    });
  });

  describe('tenant tokens signed with the platform\'s real key but with times of the attacker\'s choice', () => {
    const now = () => Math.floor(Date.now() / 1000);
    /** The key the gateway verifies with (HKDF of KEY_PEPPER, as TenantTokens derives it), named by its kid. */
    const forge = (times: { iat?: number; exp?: number }) => {
      const minted = h.tokens.mint({ tenantId: acme.id, keyId: acmeKey.id, subject: 'eve' }).token;
      const kid = jwt.decode(minted, { complete: true })!.header.kid;
      const claims = { iss: TENANT_TOKEN_ISSUER, aud: TENANT_TOKEN_AUDIENCE, tenant: acme.id, sub: 'eve', key: acmeKey.id, ...times };
      // jsonwebtoken drops a given iat with noTimestamp, and adds one without it.
      return jwt.sign(claims, h.tokens.verificationSecret(kid)!, { algorithm: 'HS256', keyid: kid, noTimestamp: times.iat === undefined });
    };

    it('accepts one with the times mint would give it (the forgery itself is sound)', async () => {
      const response = await post('/t/acme/mcp', { token: forge({ iat: now(), exp: now() + TENANT_TOKEN_MAX_TTL_SECONDS }) });
      expect(response.status).toBe(200);
      await response.body?.cancel();
    });

    it.each([
      ['without exp', () => ({ iat: now() })],
      ['without iat', () => ({ exp: now() + 600 })],
      ['expiring in 100 years', () => ({ iat: now(), exp: now() + 100 * 365 * 86_400 })],
      ['living longer than mint allows', () => ({ iat: now(), exp: now() + TENANT_TOKEN_MAX_TTL_SECONDS + 60 })],
      ['issued in the future', () => ({ iat: now() + TENANT_TOKEN_CLOCK_SKEW_SECONDS + 600, exp: now() + TENANT_TOKEN_CLOCK_SKEW_SECONDS + 1200 })],
      ['with a backdated iat hiding a week-long life', () => ({ iat: now() - 7 * 86_400, exp: now() + 600 })],
    ])('refuses one %s with 401', async (_label, times) => {
      const response = await post('/t/acme/mcp', { token: forge(times()) });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    });
  });

  it('refuses browser origins outside the allowlist with 403 and accepts listed ones', async () => {
    expect((await post('/t/acme/mcp', { token: acmeKey.token, headers: { origin: 'http://evil.example.com' } })).status).toBe(403);
    const allowed = await post('/t/acme/mcp', { token: acmeKey.token, headers: { origin: ALLOWED_ORIGIN } });
    expect(allowed.status).toBe(200);
    await allowed.body?.cancel();
  });

  it('refuses keys of a suspended tenant and closes its sessions', async () => {
    const tenant = await h.createTenant('initech');
    await h.install(tenant.id, 'echo');
    const key = await h.issueKey(tenant.id);
    clients.push(await connectClient(h.gateway.url, '/t/initech', key.token, 'sse'));
    expect(h.gateway.activeSessions({ tenant: 'initech' })).toBe(1);
    await h.prisma.tenant.update({ where: { id: tenant.id }, data: { status: 'suspended' } });
    await h.bus.publish({ type: 'tenant.changed', tenantId: tenant.id });
    await eventually(() => h.gateway.activeSessions({ tenant: 'initech' }) === 0);
    expect((await post('/t/initech/mcp', { token: key.token })).status).toBe(403);
  });
});
