import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Browser } from 'playwright-core';
import { eventually, freePort, launchBrowser } from '@switchboard/testing';
import { startOAuthCluster, type OAuthCluster } from './oauth-cluster';
import { approveInBrowser } from './oauth-consent-browser';
import type { RoundRobinProxy } from './round-robin-proxy';

/**
 * mcp-remote (the stdio bridge Claude Desktop runs for remote servers) against a tenant URL over
 * two gateway nodes behind a non-sticky round-robin balancer. It does what it does for a person:
 * meets the 401, discovers, registers (DCR), starts PKCE, and "opens a browser" on the sign-in
 * URL. The browser here is a fake opener that hands the URL to this test; Chromium then signs in
 * on the consent page and follows the redirect to mcp-remote's own loopback callback server.
 * The official SDK client drives mcp-remote over stdio, as Claude Desktop would.
 */

const MCP_REMOTE = path.resolve(__dirname, '../../../node_modules/mcp-remote/dist/proxy.js');
/** Sign-in includes a browser start and a consent page: generous, but bounded. */
const SIGN_IN_TIMEOUT_MS = 60_000;

describe('mcp-remote signs in through the platform authorization server across two nodes', () => {
  let cluster: OAuthCluster;
  let proxy: RoundRobinProxy;
  let browser: Browser;
  let apiKey: string;
  let home: string;

  beforeAll(async () => {
    home = mkdtempSync(path.join(tmpdir(), 'sb-mcp-remote-'));
    cluster = await startOAuthCluster('oauth_mcp_remote');
    proxy = cluster.proxy;
    ({ apiKey } = await cluster.seedTenant('acme', 'Acme'));
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await cluster?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  /**
   * A stand-in for the desktop's URL opener: it appends the URL to a file and exits 0. mcp-remote
   * opens URLs with the `open` package, which on Linux runs its own bundled xdg-open script, and
   * falls back to `/usr/bin/xdg-open` by absolute path: neither looks up `xdg-open` on PATH. Both
   * scripts honour `$BROWSER` when no desktop is detected, so that is where the opener goes; it is
   * also first on PATH, for an `open` that does use the system xdg-open.
   */
  function fakeOpener(): { dir: string; opener: string; opened: string } {
    const dir = mkdtempSync(path.join(home, 'bin-'));
    const opened = path.join(dir, 'opened-urls');
    const opener = path.join(dir, 'xdg-open');
    writeFileSync(opener, `#!/bin/sh\nprintf '%s\\n' "$1" >> '${opened}'\n`);
    chmodSync(opener, 0o755);
    return { dir, opener, opened };
  }

  /** mcp-remote as Claude Desktop starts it, with the SDK client on its stdio. */
  function startMcpRemote(serverUrl: string, transport: string, callbackPort: number, opener: { dir: string; opener: string }, configDir: string) {
    const stdio = new StdioClientTransport({
      command: process.execPath,
      args: [MCP_REMOTE, serverUrl, String(callbackPort), '--allow-http', '--transport', transport, '--auth-timeout', String(SIGN_IN_TIMEOUT_MS / 1000)],
      // Nothing of mcp-remote's (tokens, client registration, lock files) lands in the real home.
      env: { PATH: `${opener.dir}:${getDefaultEnvironment()['PATH'] ?? ''}`, HOME: home, MCP_REMOTE_CONFIG_DIR: configDir, BROWSER: opener.opener },
      stderr: 'pipe',
    });
    const output = { stderr: '' };
    stdio.stderr?.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
    const client = new Client({ name: 'claude-desktop-stand-in', version: '1' });
    const connected = client.connect(stdio, { timeout: SIGN_IN_TIMEOUT_MS });
    /** close() ends the child; then make sure nothing of it is left, by its pid. */
    const stop = async () => {
      const pid = stdio.pid;
      await client.close();
      if (pid === null) return;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    return { client, connected, output, stop };
  }

  /** mcp-remote keeps its tokens as `<config dir>/mcp-remote-<version>/<server hash>_tokens.json`. */
  function tokensFile(configDir: string): string {
    const files = readdirSync(configDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('_tokens.json'));
    expect(files).toHaveLength(1);
    return path.join(configDir, files[0]!);
  }

  // Streamable HTTP, and the legacy SSE URL (its /messages posts land on either node and are forwarded).
  it.each([
    { path: '/t/acme/mcp', transport: 'http-only' },
    { path: '/t/acme/sse', transport: 'sse-only' },
  ])('registers, signs in through Chromium, lists and calls tools over stdio, then refreshes on a later start, each step on either node ($path, $transport)', async ({ path: urlPath, transport }) => {
    const opener = fakeOpener();
    const { opened } = opener;
    const configDir = mkdtempSync(path.join(home, 'mcp-auth-'));
    const callbackPort = await freePort();
    const serverUrl = `${proxy.url}${urlPath}`;
    const counted = new Map(proxy.counts);
    const { client, connected, output, stop } = startMcpRemote(serverUrl, transport, callbackPort, opener, configDir);
    const stderr = () => output.stderr;
    try {
      await Promise.race([
        eventually(() => existsSync(opened) && readFileSync(opened, 'utf8').trim() !== '', SIGN_IN_TIMEOUT_MS),
        connected.then(() => Promise.reject(new Error('mcp-remote connected without signing in'))),
      ]).catch((error: unknown) => {
        throw new Error(`mcp-remote opened no sign-in URL: ${String(error)}\n${stderr().slice(-4000)}`);
      });
      const authorizationUrl = new URL(readFileSync(opened, 'utf8').trim().split('\n')[0]!);
      expect(authorizationUrl.origin + authorizationUrl.pathname).toBe(`${proxy.url}/oauth/authorize`);
      expect(authorizationUrl.searchParams.get('resource')).toBe(serverUrl);
      expect(authorizationUrl.searchParams.get('code_challenge_method')).toBe('S256');
      const callback = await approveInBrowser(browser, authorizationUrl.href, { tenantName: 'Acme', apiKey, callbackPrefix: `http://localhost:${callbackPort}/oauth/callback` });
      expect(callback.searchParams.get('iss')).toBe(proxy.url);
      await connected.catch((error: unknown) => {
        throw new Error(`mcp-remote did not connect after sign-in: ${String(error)}\n${stderr().slice(-4000)}`);
      });

      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['echo__echo']);
      for (let i = 0; i < 3; i++) expect((await client.callTool({ name: 'echo__echo', arguments: { text: `call ${i}` } })).content).toEqual([{ type: 'text', text: `call ${i}` }]);
    } finally {
      await stop();
    }

    // A later start (Claude Desktop restarted) with an access token the gateway no longer takes:
    // mcp-remote meets the 401 and refreshes with its stored refresh token, without a browser.
    const file = tokensFile(configDir);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { access_token: string; refresh_token: string };
    writeFileSync(file, JSON.stringify({ ...saved, access_token: 'expired' }));
    const again = startMcpRemote(serverUrl, transport, callbackPort, opener, configDir);
    try {
      await again.connected.catch((error: unknown) => {
        throw new Error(`mcp-remote did not reconnect with its refresh token: ${String(error)}\n${again.output.stderr.slice(-4000)}`);
      });
      expect((await again.client.callTool({ name: 'echo__echo', arguments: { text: 'after refresh' } })).content).toEqual([{ type: 'text', text: 'after refresh' }]);
    } finally {
      await again.stop();
    }
    expect(readFileSync(opened, 'utf8').trim().split('\n')).toHaveLength(1);
    // Rotated on use (docs/oauth.md): the stored refresh token is a new one.
    const refreshed = JSON.parse(readFileSync(file, 'utf8')) as { access_token: string; refresh_token: string };
    expect(refreshed.access_token).not.toBe('expired');
    expect(refreshed.refresh_token).not.toBe(saved.refresh_token);
    expect(proxy.counts.size).toBe(2);
    expect([...proxy.counts].every(([node, count]) => count - (counted.get(node) ?? 0) > 3)).toBe(true);
  }, 120_000);
});
