import { randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { auth, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { Browser } from 'playwright-core';
import { generateApiKey } from '@switchboard/api-keys';
import { keyIdOf, type KeyRing } from '@switchboard/secrets';
import { accessibilityProblems, createMigratedDatabase, createTempDataDir, launchBrowser, testRedisUrl } from '@switchboard/testing';
import { startGateway, type RunningGateway } from '../src/main';
import { TESTKIT_PLUGIN } from './gateway-harness';
import { startRoundRobinProxy, type RoundRobinProxy } from './round-robin-proxy';

/**
 * The whole sign-in across two gateway nodes behind a non-sticky round-robin balancer: the
 * official SDK client registers, a real browser (Chromium, JavaScript off) signs in on the consent
 * page, the SDK exchanges the code and refreshes, then lists and calls tools. Each step may land
 * on either node: nothing of a sign-in is kept in a node's memory.
 */

const REDIRECT = 'http://127.0.0.1:53999/callback';

class MemoryProvider implements OAuthClientProvider {
  client: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier = '';
  authorizationUrl: URL | undefined;
  get redirectUrl(): string {
    return REDIRECT;
  }
  get clientMetadata(): OAuthClientMetadata {
    return { client_name: 'Two-node client', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' };
  }
  state = () => 'two-node-state';
  clientInformation = () => this.client;
  saveClientInformation = (info: OAuthClientInformationMixed) => void (this.client = info);
  tokens = () => this.saved;
  saveTokens = (tokens: OAuthTokens) => void (this.saved = tokens);
  redirectToAuthorization = (url: URL) => void (this.authorizationUrl = url);
  saveCodeVerifier = (verifier: string) => void (this.verifier = verifier);
  codeVerifier = () => this.verifier;
}

describe('OAuth sign-in across two gateway nodes behind a round-robin balancer', () => {
  let database: Awaited<ReturnType<typeof createMigratedDatabase>>;
  let dataDir: ReturnType<typeof createTempDataDir>;
  let nodes: RunningGateway[] = [];
  let proxy: RoundRobinProxy;
  let browser: Browser;
  let apiKey: string;

  beforeAll(async () => {
    database = await createMigratedDatabase('gw_oauth_two_nodes');
    dataDir = createTempDataDir('gw_oauth_two_nodes');
    proxy = await startRoundRobinProxy(() => nodes.map((n) => n.url));
    const pepper = randomBytes(32);
    const env = {
      DATABASE_URL: database.test.url,
      GATEWAY_PORT: '0',
      GATEWAY_METRICS_PORT: 'off',
      DATA_DIR: dataDir.dir,
      SECRETS_KEY: randomBytes(32).toString('base64'),
      KEY_PEPPER: pepper.toString('base64'),
      LOG_LEVEL: 'silent',
      PLUGINS: TESTKIT_PLUGIN,
      PUBLIC_GATEWAY_URL: proxy.url,
      REDIS_URL: testRedisUrl(),
      CLUSTER_SECRET: randomBytes(32).toString('base64'),
      REDIS_PREFIX: `oauth2n${randomBytes(4).toString('hex')}`,
    };
    nodes = [await startGateway({ ...env, NODE_ID: 'gw-oauth-a' }), await startGateway({ ...env, NODE_ID: 'gw-oauth-b' })];
    const prisma = database.db.prisma;
    const tenant = await prisma.tenant.create({ data: { slug: 'acme', name: 'Acme' } });
    await prisma.pluginInstallation.create({ data: { tenantId: tenant.id, plugin: 'echo' } });
    const peppers: KeyRing = { current: { id: keyIdOf(pepper), key: pepper }, previous: [] };
    const key = generateApiKey(peppers);
    await prisma.apiKey.create({ data: { tenantId: tenant.id, name: 'k', publicId: key.publicId, secretHash: key.secretHash, pepperId: key.pepperId, plugins: [], createdBy: 'test' } });
    apiKey = key.token;
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    await Promise.all(nodes.map((n) => n.close()));
    await database?.close();
    dataDir?.remove();
  });

  /** The person, in a browser without JavaScript: paste the key, press Approve; the redirect is caught, not followed. */
  async function signInInBrowser(url: URL): Promise<URL> {
    const context = await browser.newContext({ javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      let callback: URL | undefined;
      await page.route(`${REDIRECT}**`, async (route) => {
        callback = new URL(route.request().url());
        await route.fulfill({ status: 200, contentType: 'text/plain', body: 'signed in' });
      });
      await page.goto(url.toString());
      await page.getByLabel('API key of Acme').fill(apiKey);
      await page.getByRole('button', { name: 'Approve' }).click();
      await page.waitForURL(`${REDIRECT}**`);
      return callback!;
    } finally {
      await context.close();
    }
  }

  it('registers, signs in, exchanges, refreshes and calls a tool, each step on either node', async () => {
    const provider = new MemoryProvider();
    const serverUrl = new URL(`${proxy.url}/t/acme/mcp`);
    expect(await auth(provider, { serverUrl })).toBe('REDIRECT');
    const callback = await signInInBrowser(provider.authorizationUrl!);
    expect(callback.searchParams.get('iss')).toBe(proxy.url);
    expect(callback.searchParams.get('state')).toBe('two-node-state');
    expect(await auth(provider, { serverUrl, authorizationCode: callback.searchParams.get('code')! })).toBe('AUTHORIZED');
    // Refresh (rotation) through the balancer, twice.
    for (let i = 0; i < 2; i++) {
      provider.saved = { ...provider.saved!, access_token: 'expired' };
      expect(await auth(provider, { serverUrl })).toBe('AUTHORIZED');
    }

    const client = new Client({ name: 'two-node', version: '1' });
    const transport = new StreamableHTTPClientTransport(serverUrl, { authProvider: provider });
    await client.connect(transport);
    try {
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['echo__echo']);
      for (let i = 0; i < 3; i++) expect((await client.callTool({ name: 'echo__echo', arguments: { text: `call ${i}` } })).content).toEqual([{ type: 'text', text: `call ${i}` }]);
    } finally {
      await transport.terminateSession().catch(() => undefined);
      await client.close();
    }
    // Both nodes served the flow.
    expect([...proxy.counts.values()].every((count) => count > 3)).toBe(true);
    expect(proxy.counts.size).toBe(2);
  }, 60_000);

  it('serves a consent page without serious or critical accessibility problems (axe-core)', async () => {
    const provider = new MemoryProvider();
    expect(await auth(provider, { serverUrl: new URL(`${proxy.url}/t/acme/mcp`) })).toBe('REDIRECT');
    // JavaScript on only so axe-core can run; the page itself needs none.
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(provider.authorizationUrl!.toString());
      await page.getByLabel('API key of Acme').waitFor();
      expect(await accessibilityProblems(page)).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);
});
