import { randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { generateApiKey } from '@switchboard/api-keys';
import { keyIdOf, type KeyRing } from '@switchboard/secrets';
import { createMigratedDatabase, createTempDataDir, launchBrowser, testRedisUrl } from '@switchboard/testing';
import { startGateway, type RunningGateway } from '../../src/main';
import { TESTKIT_PLUGIN } from '../gateway-harness';
import { approveInBrowser } from '../oauth-consent-browser';
import { startRoundRobinProxy, type RoundRobinProxy } from '../round-robin-proxy';
import { runAuthorizationConformance, type AuthorizationRun } from './authorization-harness';

/** Two scenarios and a sign-in in Chromium; about 5 s when healthy. */
const RUN_TIMEOUT_MS = 120_000;

// The suite's authorization-server scenarios against the issuer of two gateway nodes behind the
// non-sticky round-robin balancer: metadata, then the authorization code grant with PKCE for a
// dynamically registered public client, signed in on the consent page with an API key.
describe('official MCP conformance suite: authorization server checks against the gateway issuer', () => {
  let database: Awaited<ReturnType<typeof createMigratedDatabase>>;
  let dataDir: ReturnType<typeof createTempDataDir>;
  const nodes: RunningGateway[] = [];
  let proxy: RoundRobinProxy;
  let browser: Browser;
  let run: AuthorizationRun;

  beforeAll(async () => {
    database = await createMigratedDatabase('gw_conformance_authz');
    dataDir = createTempDataDir('gw_conformance_authz');
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
      REDIS_PREFIX: `authzconf${randomBytes(4).toString('hex')}`,
    };
    // One at a time into `nodes`, so afterAll closes a node that started even if the other did not.
    for (const nodeId of ['gw-authz-a', 'gw-authz-b']) nodes.push(await startGateway({ ...env, NODE_ID: nodeId }));
    const prisma = database.db.prisma;
    const tenant = await prisma.tenant.create({ data: { slug: 'conformance', name: 'Conformance' } });
    await prisma.pluginInstallation.create({ data: { tenantId: tenant.id, plugin: 'echo' } });
    const peppers: KeyRing = { current: { id: keyIdOf(pepper), key: pepper }, previous: [] };
    const key = generateApiKey(peppers);
    await prisma.apiKey.create({ data: { tenantId: tenant.id, name: 'k', publicId: key.publicId, secretHash: key.secretHash, pepperId: key.pepperId, plugins: [], createdBy: 'test' } });
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
    await proxy?.close();
    await Promise.all(nodes.map((n) => n.close()));
    await database?.close();
    dataDir?.remove();
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
