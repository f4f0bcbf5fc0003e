import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { publicJwkOf, signAccessToken, type AccessTokenClaims, type SigningKey } from '../src/auth/oauth-access-token';
import { SigningKeys } from '../src/oauth/signing-keys';
import { connectClient, disconnect, eventually, startHarness, type GatewayHarness } from './gateway-harness';

// Tenant URLs as OAuth 2.1 protected resources (docs/oauth.md), over real HTTP: the metadata, the
// challenges, access tokens in both protocol eras, and the attacker's side: another tenant's
// token, another endpoint's, a plugin outside the grant, a revoked grant, a revoked key.

const MODERN = '2026-07-28';
const SWEEP_MS = 250;

describe('tenant URLs as OAuth protected resources', () => {
  let h: GatewayHarness;
  let acme: { id: string; slug: string };
  let globex: { id: string; slug: string };
  let signing: SigningKey;
  const clients: Client[] = [];

  beforeAll(async () => {
    // A sweep every 250 ms: the session sweeper's decisions show within a test's time.
    h = await startHarness('gw_oauth_resource', { SSE_KEEPALIVE_MS: String(SWEEP_MS) });
    acme = await h.createTenant('acme');
    globex = await h.createTenant('globex');
    await h.install(acme.id, 'echo');
    await h.install(acme.id, 'testkit');
    await h.install(globex.id, 'echo');
    // The authorization server's table shape: the public JWK, the private key sealed with SECRETS_KEY.
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    signing = { kid: `test-${randomUUID()}`, key: privateKey };
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    await h.prisma.oAuthSigningKey.create({
      // Retired: it still verifies (its tokens live), and the authorization server makes its own key to sign with.
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

  const base = () => h.gateway.url;

  /** A grant row and an access token of it, as the authorization server would make them. */
  async function grantToken(options: {
    tenant?: { id: string; slug: string };
    keyId: string;
    resourcePath?: string;
    scope?: string;
    claims?: Partial<AccessTokenClaims>;
    signWith?: SigningKey;
    /** Another token of this grant (a refresh) instead of a new grant. */
    grantId?: string;
  }) {
    const tenant = options.tenant ?? acme;
    const resource = `${base()}${options.resourcePath ?? `/t/${tenant.slug}/mcp`}`;
    const scope = options.scope ?? 'mcp plugin:echo plugin:testkit';
    const grant = options.grantId
      ? { id: options.grantId }
      : await h.prisma.oAuthGrant.create({
          data: { tenantId: tenant.id, clientId: 'sbc_test', keyId: options.keyId, subject: `key:${options.keyId}`, scopes: scope.split(' '), resource },
        });
    const now = Math.floor(Date.now() / 1000);
    const claims: AccessTokenClaims = {
      iss: new URL(base()).origin,
      aud: resource,
      sub: `key:${options.keyId}`,
      client_id: 'sbc_test',
      scope,
      tenant: tenant.id,
      grant: grant.id,
      key: options.keyId,
      iat: now,
      exp: now + 600,
      jti: randomUUID(),
      ...options.claims,
    };
    return { token: signAccessToken(claims, options.signWith ?? signing), grantId: grant.id };
  }

  /** One stateless 2026-07-28 request, written by hand as the wire has it. */
  function modern(path: string, token: string | undefined, method: string, params: Record<string, unknown> = {}) {
    return fetch(new URL(path, base()), {
      method: 'POST',
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': MODERN,
        'mcp-method': method,
        ...(typeof params['name'] === 'string' ? { 'mcp-name': params['name'] } : {}),
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method,
        params: { ...params, _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} } },
      }),
    });
  }

  const toolNames = async (response: Response) => ((await response.json()) as { result: { tools: { name: string }[] } }).result.tools.map((t) => t.name).sort();

  describe('protected resource metadata (RFC 9728)', () => {
    it.each(['/t/acme/mcp', '/t/acme/sse', '/t/acme/p/echo/mcp'])('describes %s with exactly that URL as the resource and the platform as its authorization server', async (path) => {
      const response = await fetch(`${base()}/.well-known/oauth-protected-resource${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      expect(await response.json()).toMatchObject({
        resource: `${base()}${path}`,
        authorization_servers: [new URL(base()).origin],
        scopes_supported: path.includes('/p/echo/') ? ['mcp', 'plugin:echo'] : ['mcp'],
        bearer_methods_supported: ['header'],
      });
    });

    it('answers the same document for a tenant that does not exist, so the metadata reveals no tenant', async () => {
      const real = (await (await fetch(`${base()}/.well-known/oauth-protected-resource/t/acme/mcp`)).json()) as Record<string, unknown>;
      const missing = (await (await fetch(`${base()}/.well-known/oauth-protected-resource/t/no-such-tenant/mcp`)).json()) as Record<string, unknown>;
      expect({ ...missing, resource: undefined }).toEqual({ ...real, resource: undefined });
    });

    it.each(['/t/acme/messages', '/t/acme/anything', '/t/acme/mcp/'])('has no metadata for %s, which is not a URL clients connect to', async (path) => {
      expect((await fetch(`${base()}/.well-known/oauth-protected-resource${path}`)).status).toBe(404);
    });

    it('challenges a request without a token with scope="mcp" and the metadata URL of the endpoint', async () => {
      const response = await modern('/t/acme/mcp', undefined, 'tools/list');
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe(
        `Bearer realm="switchboard", scope="mcp", resource_metadata="${base()}/.well-known/oauth-protected-resource/t/acme/mcp"`,
      );
    });
  });

  describe('access tokens in both eras', () => {
    it('lists and calls the granted tools on a 2025 session opened with an access token, over Streamable HTTP and legacy SSE', async () => {
      const key = await h.issueKey(acme.id);
      const { token } = await grantToken({ keyId: key.id, scope: 'mcp plugin:echo' });
      const client = await connectClient(base(), '/t/acme', token, 'streamable-http');
      clients.push(client);
      const tools = (await client.listTools()).tools.map((t) => t.name);
      expect(tools.length).toBeGreaterThan(0);
      expect(tools.every((name) => name.startsWith('echo__'))).toBe(true);
      expect((await client.callTool({ name: 'echo__echo', arguments: { text: 'oauth' } })).content).toEqual([{ type: 'text', text: 'oauth' }]);

      const { token: sseToken } = await grantToken({ keyId: key.id, resourcePath: '/t/acme/sse', scope: 'mcp plugin:echo' });
      const sse = await connectClient(base(), '/t/acme', sseToken, 'sse');
      clients.push(sse);
      expect((await sse.callTool({ name: 'echo__echo', arguments: { text: 'sse' } })).content).toEqual([{ type: 'text', text: 'sse' }]);
    });

    it('keeps a 2025 session across a token refresh: the expired token is refused, the next token of the grant carries the session on', async () => {
      const key = await h.issueKey(acme.id);
      const now = Math.floor(Date.now() / 1000);
      const first = await grantToken({ keyId: key.id, claims: { iat: now, exp: now + 2 } });
      const post = (token: string, body: unknown, sessionId?: string) =>
        fetch(new URL('/t/acme/mcp', base()), {
          method: 'POST',
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            ...(sessionId ? { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' } : {}),
          },
          body: JSON.stringify(body),
        });
      const init = await post(first.token, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
      const sessionId = init.headers.get('mcp-session-id')!;
      await init.body?.cancel();
      await (await post(first.token, { jsonrpc: '2.0', method: 'notifications/initialized' }, sessionId)).body?.cancel();
      await eventually(async () => (await post(first.token, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, sessionId)).status === 401, 5_000);
      // Nothing to await: the sweeper acts on time alone. Three sweeps after the token's expiry, a
      // session bound to the token's `exp` would be gone.
      await new Promise((resolve) => setTimeout(resolve, 3 * SWEEP_MS));
      const refreshed = await grantToken({ keyId: key.id, grantId: first.grantId });
      const listed = await post(refreshed.token, { jsonrpc: '2.0', id: 3, method: 'tools/list' }, sessionId);
      expect(listed.status).toBe(200);
      await listed.body?.cancel();
      expect(h.gateway.activeSessions({ keyId: key.id })).toBe(1);
    });

    it('answers a stateless 2026-07-28 request with an access token, showing only the plugins the token was granted', async () => {
      const key = await h.issueKey(acme.id);
      const { token } = await grantToken({ keyId: key.id, scope: 'mcp plugin:testkit' });
      const response = await modern('/t/acme/mcp', token, 'tools/list');
      expect(response.status).toBe(200);
      const names = await toolNames(response);
      expect(names.length).toBeGreaterThan(0);
      expect(names.every((name) => name.startsWith('testkit__'))).toBe(true);
    });

    it("verifies a token signed with the authorization server's own current key, as stored in oauth_signing_keys", async () => {
      const key = await h.issueKey(acme.id);
      const current = await new SigningKeys(h.prisma, h.secretBox).current();
      expect(current.kid).not.toBe(signing.kid);
      const { token } = await grantToken({ keyId: key.id, scope: 'mcp plugin:echo', signWith: current });
      // A node that read the key table within the last second finds the new kid at its next read.
      const waited = await eventually(async () => (await modern('/t/acme/mcp', token, 'tools/list')).status === 200);
      expect(waited).toBeLessThan(1_500);
    });

    it('keeps API keys working on the same URL: a valid static key never meets OAuth', async () => {
      const key = await h.issueKey(acme.id);
      const response = await modern('/t/acme/mcp', key.token, 'tools/list');
      expect(response.status).toBe(200);
      expect(await toolNames(response)).toEqual(expect.arrayContaining([expect.stringMatching(/^echo__/), expect.stringMatching(/^testkit__/)]));
    });
  });

  describe("the attacker's side", () => {
    it("refuses acme's token at globex with 401 invalid_token, exactly as an unknown token", async () => {
      const key = await h.issueKey(acme.id);
      const { token } = await grantToken({ keyId: key.id });
      const atGlobex = await modern('/t/globex/mcp', token, 'tools/list');
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const forged = signAccessToken(
        { iss: new URL(base()).origin, aud: `${base()}/t/globex/mcp`, sub: 'x', client_id: 'x', scope: 'mcp', tenant: globex.id, grant: randomUUID(), key: key.id, iat: 0, exp: 4_000_000_000, jti: 'x' },
        { kid: signing.kid, key: privateKey },
      );
      const unknown = await modern('/t/globex/mcp', forged, 'tools/list');
      expect(atGlobex.status).toBe(401);
      expect(unknown.status).toBe(401);
      expect(atGlobex.headers.get('www-authenticate')).toBe(unknown.headers.get('www-authenticate'));
      expect(atGlobex.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
      expect(await atGlobex.text()).toBe(await unknown.text());
    });

    it('refuses a token for the tenant URL on one of its plugin URLs: the audience is the resource the client asked for', async () => {
      const key = await h.issueKey(acme.id);
      const { token } = await grantToken({ keyId: key.id });
      expect((await modern('/t/acme/p/echo/mcp', token, 'tools/list')).status).toBe(401);
      expect((await modern('/t/acme/mcp', token, 'tools/list')).status).toBe(200);
    });

    it('answers 403 insufficient_scope with the scopes needed on a plugin URL the token was not granted (step-up)', async () => {
      const key = await h.issueKey(acme.id);
      const { token } = await grantToken({ keyId: key.id, resourcePath: '/t/acme/p/testkit/mcp', scope: 'mcp plugin:echo' });
      const response = await modern('/t/acme/p/testkit/mcp', token, 'tools/list');
      expect(response.status).toBe(403);
      const challenge = response.headers.get('www-authenticate')!;
      expect(challenge).toMatch(/^Bearer /);
      expect(challenge).toContain('error="insufficient_scope"');
      expect(challenge).toContain('scope="mcp plugin:testkit"');
      expect(challenge).toContain(`resource_metadata="${base()}/.well-known/oauth-protected-resource/t/acme/p/testkit/mcp"`);
    });

    describe('step-up on the tenant-wide URL (a tools/call of a plugin the token was not granted)', () => {
      const challengeFor = (response: Response) => response.headers.get('www-authenticate') ?? '';

      /** A 2025 Streamable HTTP session opened with `token`, and a POST into it. */
      async function legacySession(token: string) {
        const post = (body: unknown, sessionId?: string) =>
          fetch(new URL('/t/acme/mcp', base()), {
            method: 'POST',
            headers: {
              authorization: `Bearer ${token}`,
              'content-type': 'application/json',
              accept: 'application/json, text/event-stream',
              ...(sessionId ? { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' } : {}),
            },
            body: JSON.stringify(body),
          });
        const init = await post({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
        const sessionId = init.headers.get('mcp-session-id')!;
        await init.body?.cancel();
        await (await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, sessionId)).body?.cancel();
        return (id: number, name: string, args: Record<string, unknown> = {}) => post({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } }, sessionId);
      }

      it('answers 403 insufficient_scope on a 2025 session, naming the scopes the token holds and the one it lacks', async () => {
        const key = await h.issueKey(acme.id);
        const { token } = await grantToken({ keyId: key.id, scope: 'mcp plugin:echo' });
        const call = await legacySession(token);
        const refused = await call(2, 'testkit__whoami');
        expect(refused.status).toBe(403);
        const challenge = challengeFor(refused);
        expect(challenge).toMatch(/^Bearer /);
        expect(challenge).toContain('error="insufficient_scope"');
        expect(challenge).toContain('scope="mcp plugin:echo plugin:testkit"');
        expect(challenge).toContain(`resource_metadata="${base()}/.well-known/oauth-protected-resource/t/acme/mcp"`);
        await refused.body?.cancel();
        // A granted plugin's tool still works on the same session.
        const granted = await call(3, 'echo__echo', { text: 'still here' });
        expect(granted.status).toBe(200);
        expect(await granted.text()).toContain('still here');
      });

      it('answers 403 insufficient_scope to a 2026-07-28 request, and still answers a granted tool', async () => {
        const key = await h.issueKey(acme.id);
        const { token } = await grantToken({ keyId: key.id, scope: 'mcp plugin:echo' });
        const refused = await modern('/t/acme/mcp', token, 'tools/call', { name: 'testkit__whoami', arguments: {} });
        expect(refused.status).toBe(403);
        const challenge = challengeFor(refused);
        expect(challenge).toContain('error="insufficient_scope"');
        expect(challenge).toContain('scope="mcp plugin:echo plugin:testkit"');
        expect(challenge).toContain(`resource_metadata="${base()}/.well-known/oauth-protected-resource/t/acme/mcp"`);
        const granted = await modern('/t/acme/mcp', token, 'tools/call', { name: 'echo__echo', arguments: { text: 'modern' } });
        expect(granted.status).toBe(200);
        expect(await granted.text()).toContain('modern');
      });

      it('keeps a tool of a plugin the key lacks unknown in both eras: no challenge names it', async () => {
        const key = await h.issueKey(acme.id, { plugins: ['echo'] });
        const { token } = await grantToken({ keyId: key.id, scope: 'mcp plugin:echo' });
        const stateless = await modern('/t/acme/mcp', token, 'tools/call', { name: 'testkit__whoami', arguments: {} });
        expect(stateless.status).not.toBe(403);
        expect(stateless.headers.get('www-authenticate')).toBeNull();
        const statelessBody = await stateless.text();
        expect(statelessBody).toMatch(/unknown tool|not found/i);
        const call = await legacySession(token);
        const session = await call(2, 'testkit__whoami');
        expect(session.status).toBe(200);
        expect(session.headers.get('www-authenticate')).toBeNull();
        expect(await session.text()).toMatch(/unknown tool|not found/i);
      });
    });

    it('refuses a plugin the key itself lacks even when the token claims its scope', async () => {
      const key = await h.issueKey(acme.id, { plugins: ['echo'] });
      const { token } = await grantToken({ keyId: key.id, scope: 'mcp plugin:echo plugin:testkit' });
      const names = await toolNames(await modern('/t/acme/mcp', token, 'tools/list'));
      expect(names.every((name) => name.startsWith('echo__'))).toBe(true);
    });

    it.each(['/t/acme/p/x%22%2C%20error%3D%22evil/mcp', '/t/acme/p/x%0d%0aset-cookie:%20a=b/mcp', '/t/ac%22me/mcp'])(
      'keeps a hostile path out of the challenge header structure: %s',
      async (path) => {
        const key = await h.issueKey(acme.id);
        const { token } = await grantToken({ keyId: key.id, scope: 'mcp plugin:echo' });
        for (const credential of [undefined, token, 'sbk_nope']) {
          const response = await modern(path, credential, 'tools/list');
          expect([401, 403, 404]).toContain(response.status);
          expect(response.headers.get('set-cookie')).toBeNull();
          const challenge = response.headers.get('www-authenticate');
          if (challenge) expect(challenge.match(/error=/g)?.length ?? 0).toBeLessThanOrEqual(1);
        }
      },
    );

    it('refuses an expired token with 401 and says so', async () => {
      const key = await h.issueKey(acme.id);
      const now = Math.floor(Date.now() / 1000);
      const { token } = await grantToken({ keyId: key.id, claims: { iat: now - 700, exp: now - 100 } });
      const response = await modern('/t/acme/mcp', token, 'tools/list');
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/expired/);
    });

    it('cuts a revoked grant on the bus: its open sessions close and its stateless requests get 401, other grants of the key go on', async () => {
      const key = await h.issueKey(acme.id);
      const revoked = await grantToken({ keyId: key.id });
      const kept = await grantToken({ keyId: key.id });
      clients.push(await connectClient(base(), '/t/acme', revoked.token, 'streamable-http'));
      const survivor = await connectClient(base(), '/t/acme', kept.token, 'streamable-http');
      clients.push(survivor);
      expect(h.gateway.activeSessions({ keyId: key.id })).toBe(2);
      await h.prisma.oAuthGrant.update({ where: { id: revoked.grantId }, data: { revokedAt: new Date(), revokedReason: 'admin' } });
      const published = Date.now();
      await h.bus.publish({ type: 'oauth-grant.revoked', tenantId: acme.id, grantId: revoked.grantId });
      await eventually(() => h.gateway.activeSessions({ keyId: key.id }) === 1);
      expect(Date.now() - published).toBeLessThan(1_000);
      const response = await modern('/t/acme/mcp', revoked.token, 'tools/list');
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/revoked/);
      expect((await survivor.listTools()).tools.length).toBeGreaterThan(0);
    });

    it("cuts every token of a revoked key: the key's revocation closes their sessions and refuses their requests", async () => {
      const key = await h.issueKey(acme.id);
      const { token } = await grantToken({ keyId: key.id });
      clients.push(await connectClient(base(), '/t/acme', token, 'streamable-http'));
      expect((await modern('/t/acme/mcp', token, 'tools/list')).status).toBe(200);
      await h.prisma.apiKey.update({ where: { id: key.id }, data: { revokedAt: new Date() } });
      await h.bus.publish({ type: 'api-key.revoked', tenantId: acme.id, keyId: key.id });
      await eventually(() => h.gateway.activeSessions({ keyId: key.id }) === 0);
      const response = await modern('/t/acme/mcp', token, 'tools/list');
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/revoked/);
    });

    it('refuses a token with alg none or a tampered scope', async () => {
      const key = await h.issueKey(acme.id);
      const { token } = await grantToken({ keyId: key.id, scope: 'mcp plugin:echo' });
      const [header, payload, signature] = token.split('.');
      const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as AccessTokenClaims;
      const widened = Buffer.from(JSON.stringify({ ...claims, scope: 'mcp plugin:echo plugin:testkit' })).toString('base64url');
      const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: signing.kid })).toString('base64url')}.${payload}.`;
      for (const forged of [`${header}.${widened}.${signature}`, none]) {
        expect((await modern('/t/acme/mcp', forged, 'tools/list')).status).toBe(401);
      }
    });
  });
});
