import { createPublicKey } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import jwt from 'jsonwebtoken';
import { startHarness, type GatewayHarness } from './gateway-harness';
import { approveWithKey, MemoryOAuthProvider } from './oauth-cluster';

/**
 * The whole sign-in with the official SDK v1 client's OAuth support (client/auth.js): discovery
 * from the 401, dynamic registration, PKCE, the consent page (this test plays the person: it
 * opens the URL the client would show in a browser, fills in the API key, approves), code,
 * token, refresh; then the client lists and calls tools with the access token.
 */

const REDIRECT = 'http://127.0.0.1:53682/callback';

class MemoryProvider extends MemoryOAuthProvider {
  constructor() {
    super(REDIRECT, 'SDK test client', 'sdk-state');
  }
}

describe('the official SDK client signs in through the platform authorization server', () => {
  let h: GatewayHarness;
  let acme: { id: string; slug: string };
  let key: { token: string; id: string };

  beforeAll(async () => {
    h = await startHarness('gw_oauth_sdk');
    acme = await h.createTenant('acme');
    await h.install(acme.id, 'echo');
    await h.install(acme.id, 'testkit');
    key = await h.issueKey(acme.id);
  });

  afterAll(async () => {
    await h.close();
  });

  it('registers, authorizes with PKCE, exchanges the code and gets a token for the tenant resource', async () => {
    const provider = new MemoryProvider();
    const serverUrl = `${h.gateway.url}/t/acme/mcp`;
    expect(await auth(provider, { serverUrl })).toBe('REDIRECT');
    expect(provider.client?.client_id).toMatch(/^sbc_/);
    const authorizationUrl = provider.authorizationUrl!;
    expect(authorizationUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorizationUrl.searchParams.get('resource')).toBe(serverUrl);

    const { callback } = await approveWithKey(authorizationUrl, key.token);
    expect(callback.searchParams.get('state')).toBe('sdk-state');
    expect(callback.searchParams.get('iss')).toBe(h.gateway.url);
    expect(await auth(provider, { serverUrl, authorizationCode: callback.searchParams.get('code')! })).toBe('AUTHORIZED');

    const accessToken = provider.saved!.access_token;
    const kid = jwt.decode(accessToken, { complete: true })!.header.kid;
    const { keys } = (await (await fetch(`${h.gateway.url}/oauth/jwks.json`)).json()) as { keys: Record<string, unknown>[] };
    const jwk = keys.find((k) => k['kid'] === kid)!;
    const claims = jwt.verify(accessToken, createPublicKey({ key: jwk as never, format: 'jwk' }), { algorithms: ['ES256'], issuer: h.gateway.url, audience: serverUrl });
    expect(claims).toMatchObject({ tenant: acme.id, key: key.id, scope: 'mcp plugin:echo plugin:testkit' });

    // Refresh through the SDK: rotated, and the old one is no longer the client's.
    const before = provider.saved!.refresh_token;
    provider.saved = { ...provider.saved!, access_token: 'expired' };
    expect(await auth(provider, { serverUrl })).toBe('AUTHORIZED');
    expect(provider.saved!.refresh_token).not.toBe(before);
  });

  it('lists and calls a tool on the tenant URL with the access token', async () => {
    const provider = new MemoryProvider();
    const serverUrl = new URL(`${h.gateway.url}/t/acme/mcp`);
    const client = new Client({ name: 'sdk-oauth', version: '1' });
    // First connect: the gateway answers 401, the SDK discovers the server and sends the person to sign in.
    await expect(client.connect(new StreamableHTTPClientTransport(serverUrl, { authProvider: provider }))).rejects.toThrow();
    const { callback } = await approveWithKey(provider.authorizationUrl!, key.token, ['echo']);
    const transport = new StreamableHTTPClientTransport(serverUrl, { authProvider: provider });
    await transport.finishAuth(callback.searchParams.get('code')!);
    const signedIn = new Client({ name: 'sdk-oauth', version: '1' });
    await signedIn.connect(transport);
    try {
      const { tools } = await signedIn.listTools();
      expect(tools.map((t) => t.name)).toContain('echo__echo');
      // The person ticked only echo: the testkit plugin's tools are not in the token's reach.
      expect(tools.every((t) => t.name.startsWith('echo__'))).toBe(true);
      const result = await signedIn.callTool({ name: 'echo__echo', arguments: { text: 'hello over oauth' } });
      expect(JSON.stringify(result.content)).toContain('hello over oauth');
    } finally {
      await transport.terminateSession().catch(() => undefined);
      await signedIn.close();
    }
  });
});
