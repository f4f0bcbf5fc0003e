import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Browser } from 'playwright-core';
import { accessibilityProblems, launchBrowser } from '@switchboard/testing';
import { MemoryOAuthProvider, startOAuthCluster, type OAuthCluster } from './oauth-cluster';
import type { RoundRobinProxy } from './round-robin-proxy';

/**
 * The whole sign-in across two gateway nodes behind a non-sticky round-robin balancer: the
 * official SDK client registers, a real browser (Chromium, JavaScript off) signs in on the consent
 * page, the SDK exchanges the code and refreshes, then lists and calls tools. Each step may land
 * on either node: nothing of a sign-in is kept in a node's memory.
 */

const REDIRECT = 'http://127.0.0.1:53999/callback';

class MemoryProvider extends MemoryOAuthProvider {
  constructor() {
    super(REDIRECT, 'Two-node client', 'two-node-state');
  }
}

describe('OAuth sign-in across two gateway nodes behind a round-robin balancer', () => {
  let cluster: OAuthCluster;
  let proxy: RoundRobinProxy;
  let browser: Browser;
  let apiKey: string;

  beforeAll(async () => {
    cluster = await startOAuthCluster('oauth_two_nodes');
    proxy = cluster.proxy;
    ({ apiKey } = await cluster.seedTenant('acme', 'Acme'));
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await cluster?.close();
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
