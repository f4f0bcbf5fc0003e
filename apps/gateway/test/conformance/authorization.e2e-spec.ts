import type { Browser } from 'playwright-core';
import { launchBrowser } from '@switchboard/testing';
import { startOAuthCluster, type OAuthCluster } from '../oauth-cluster';
import { approveInBrowser } from '../oauth-consent-browser';
import type { RoundRobinProxy } from '../round-robin-proxy';
import { runAuthorizationConformance, type AuthorizationRun } from './authorization-harness';

/** Two scenarios and a sign-in in Chromium; about 5 s when healthy. */
const RUN_TIMEOUT_MS = 120_000;

// The suite's authorization-server scenarios against the issuer of two gateway nodes behind the
// non-sticky round-robin balancer: metadata, then the authorization code grant with PKCE for a
// dynamically registered public client, signed in on the consent page with an API key.
describe('official MCP conformance suite: authorization server checks against the gateway issuer', () => {
  let cluster: OAuthCluster;
  let proxy: RoundRobinProxy;
  let browser: Browser;
  let run: AuthorizationRun;

  beforeAll(async () => {
    cluster = await startOAuthCluster('conformance_authz');
    proxy = cluster.proxy;
    const key = { token: (await cluster.seedTenant('conformance', 'Conformance')).apiKey };
    browser = await launchBrowser();

    run = await runAuthorizationConformance({
      issuer: proxy.url,
      resource: `${proxy.url}/t/conformance/mcp`,
      async registerClient(redirectUri) {
        // As a native client registers (RFC 7591, RFC 8252 loopback redirect), through the balancer.
        const answer = await fetch(`${proxy.url}/oauth/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ client_name: 'MCP conformance suite', application_type: 'native', redirect_uris: [redirectUri], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], response_types: ['code'] }),
        });
        if (answer.status !== 201) throw new Error(`registration answered ${answer.status}: ${await answer.text()}`);
        return ((await answer.json()) as { client_id: string }).client_id;
      },
      approve: async (url, callbackPrefix) => void (await approveInBrowser(browser, url, { tenantName: 'Conformance', apiKey: key.token, callbackPrefix })),
    });
  }, RUN_TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    await cluster?.close();
  });

  it('runs every authorization scenario the suite lists, and only those', () => {
    expect(run.listed).toEqual(expect.arrayContaining(['authorization-server-metadata-endpoint', 'authorization-code-grant']));
    expect(run.results.map((r) => r.scenario).sort()).toEqual([...run.listed].sort());
  });

  it('passes every authorization scenario (none skipped), on either node', () => {
    const report = run.results.map((r) => `${r.passed ? 'PASS' : 'FAIL'} ${r.scenario}${[...r.failures, ...r.skipped, ...r.warnings].map((c) => `\n       ${c}`).join('')}`).join('\n');
    console.log(`authorization server conformance in ${(run.durationMs / 1000).toFixed(1)} s\n${report}`);
    const failed = run.listed.filter((scenario) => !run.results.some((r) => r.scenario === scenario && r.passed));
    // On failure, the suite's own output (requests, answers) says what went wrong.
    expect({ failed, output: failed.length ? run.output : '' }).toEqual({ failed: [], output: '' });
    expect(proxy.counts.size).toBe(2);
  });

  it('was asked to sign in at the gateway authorization endpoint with PKCE S256 and the tenant resource', () => {
    expect(run.authorizationUrl).toBeDefined();
    const url = new URL(run.authorizationUrl!);
    expect(url.origin + url.pathname).toBe(`${proxy.url}/oauth/authorize`);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('resource')).toBe(`${proxy.url}/t/conformance/mcp`);
  });
});
