import { createHash } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Browser } from 'playwright-core';
import { ssoSecretAad } from '@switchboard/oauth-policy';
import { SecretBox } from '@switchboard/secrets';
import { launchBrowser, startMiniOidcProvider, type MiniOidcProvider } from '@switchboard/testing';
import { MemoryOAuthProvider, startOAuthCluster, type OAuthCluster } from './oauth-cluster';
import type { RoundRobinProxy } from './round-robin-proxy';

/**
 * Single sign-on through the tenant's own OpenID Connect provider (a small one started on
 * loopback), across two gateway nodes behind a non-sticky round-robin balancer: the SDK client
 * registers, Chromium (JavaScript off) presses "Sign in with …", the provider signs the person in
 * and sends the browser back to whichever node, the person approves, and the SDK lists and calls
 * tools with a token of a grant that has no API key. Then the attacker's side.
 */

const REDIRECT = 'http://127.0.0.1:53998/callback';

class MemoryProvider extends MemoryOAuthProvider {
  constructor() {
    super(REDIRECT, 'SSO client', 'sso-state');
  }
}

describe('OAuth sign-in through the tenant’s own OpenID Connect provider', () => {
  let cluster: OAuthCluster;
  let proxy: RoundRobinProxy;
  let browser: Browser;
  let idp: MiniOidcProvider;
  let acmeId: string;

  beforeAll(async () => {
    idp = await startMiniOidcProvider();
    idp.clients.set('acme-client', 'acme-secret');
    idp.clients.set('globex-client', 'globex-secret');
    // The operator allows the loopback provider; without it the SSRF guard refuses it.
    cluster = await startOAuthCluster('oauth_sso', { OUTBOUND_ALLOW_CIDRS: '127.0.0.1/32' });
    proxy = cluster.proxy;
    const prisma = cluster.prisma;
    const box = new SecretBox({ current: cluster.secretsKey });
    const ssoOf = (tenantId: string, clientId: string, secret: string, domains: string[]) => ({
      sso: { issuer: idp.issuer, clientId, clientSecretSealed: box.encrypt({ clientSecret: secret }, ssoSecretAad(tenantId)), allowedEmailDomains: domains },
    });
    const acme = await prisma.tenant.create({ data: { slug: 'acme', name: 'Acme' } });
    acmeId = acme.id;
    await prisma.tenant.update({ where: { id: acme.id }, data: { oauth: ssoOf(acme.id, 'acme-client', 'acme-secret', ['acme.test']) } });
    await prisma.pluginInstallation.create({ data: { tenantId: acme.id, plugin: 'echo' } });
    const globex = await prisma.tenant.create({ data: { slug: 'globex', name: 'Globex' } });
    await prisma.tenant.update({ where: { id: globex.id }, data: { oauth: ssoOf(globex.id, 'globex-client', 'globex-secret', []) } });
    await prisma.pluginInstallation.create({ data: { tenantId: globex.id, plugin: 'echo' } });
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await cluster?.close();
    await idp?.close();
  });

  /** The person, without JavaScript: "Sign in with …", the provider signs them in, back on the consent page. */
  async function signInWithProvider(url: URL, approve: boolean): Promise<{ callback: URL | undefined; text: string }> {
    const context = await browser.newContext({ javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      let callback: URL | undefined;
      await page.route(`${REDIRECT}**`, async (route) => {
        callback = new URL(route.request().url());
        await route.fulfill({ status: 200, contentType: 'text/plain', body: 'signed in' });
      });
      await page.goto(url.toString());
      await page.getByRole('button', { name: `Sign in with ${new URL(idp.issuer).host}` }).click();
      await page.waitForURL(`${proxy.url}/oauth/sso/callback**`);
      const text = await page.locator('main').innerText();
      if (!approve) return { callback, text };
      await page.getByRole('button', { name: 'Approve' }).click();
      await page.waitForURL(`${REDIRECT}**`);
      return { callback, text };
    } finally {
      await context.close();
    }
  }

  it('signs in through the provider, approves, and the SDK client lists and calls tools as the SSO subject', async () => {
    idp.nextUser = { sub: 'user-ada', email: 'Ada@acme.test', email_verified: true };
    const provider = new MemoryProvider();
    const serverUrl = new URL(`${proxy.url}/t/acme/mcp`);
    expect(await auth(provider, { serverUrl })).toBe('REDIRECT');
    const { callback, text } = await signInWithProvider(provider.authorizationUrl!, true);
    expect(text).toContain('Signed in as ada@acme.test');
    expect(callback!.searchParams.get('state')).toBe('sso-state');
    // What the gateway sent the provider: PKCE S256, a nonce, our callback.
    const sent = idp.authorizations.at(-1)!;
    expect([sent.get('code_challenge_method'), sent.get('redirect_uri'), sent.get('client_id')]).toEqual(['S256', `${proxy.url}/oauth/sso/callback`, 'acme-client']);
    expect(sent.get('nonce')).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(await auth(provider, { serverUrl, authorizationCode: callback!.searchParams.get('code')! })).toBe('AUTHORIZED');
    provider.saved = { ...provider.saved!, access_token: 'expired' };
    expect(await auth(provider, { serverUrl })).toBe('AUTHORIZED');

    const client = new Client({ name: 'sso', version: '1' });
    const transport = new StreamableHTTPClientTransport(serverUrl, { authProvider: provider });
    await client.connect(transport);
    try {
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['echo__echo']);
      for (let i = 0; i < 2; i++) expect((await client.callTool({ name: 'echo__echo', arguments: { text: `sso ${i}` } })).content).toEqual([{ type: 'text', text: `sso ${i}` }]);
    } finally {
      await transport.terminateSession().catch(() => undefined);
      await client.close();
    }
    const grants = await cluster.prisma.oAuthGrant.findMany({ where: { tenantId: acmeId } });
    expect(grants).toEqual([expect.objectContaining({ subject: `sso:${idp.issuer}#user-ada`, email: 'ada@acme.test', keyId: null, scopes: ['mcp', 'plugin:echo'] })]);
    const consent = await cluster.prisma.auditEvent.findFirst({ where: { action: 'oauth-grant.consent', targetId: grants[0]!.id } });
    expect(consent?.actor).toBe(`sso:${idp.issuer}#user-ada`);

    // The tenant turns single sign-on off: the grant's refresh token no longer gets tokens.
    const prisma = cluster.prisma;
    const settings = (await prisma.tenant.findUniqueOrThrow({ where: { id: acmeId } })).oauth as object;
    await prisma.tenant.update({ where: { id: acmeId }, data: { oauth: {} } });
    try {
      const refresh = await fetch(`${proxy.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: provider.saved!.refresh_token!, client_id: (provider.client as { client_id: string }).client_id }),
      });
      expect([refresh.status, ((await refresh.json()) as { error: string }).error]).toEqual([400, 'invalid_grant']);
    } finally {
      await prisma.tenant.update({ where: { id: acmeId }, data: { oauth: settings } });
    }
  }, 60_000);

  it('refuses a provider user of a domain the tenant does not allow, and makes no grant', async () => {
    idp.nextUser = { sub: 'user-eve', email: 'eve@evil.test', email_verified: true };
    const provider = new MemoryProvider();
    expect(await auth(provider, { serverUrl: new URL(`${proxy.url}/t/acme/mcp`) })).toBe('REDIRECT');
    const before = await cluster.prisma.oAuthGrant.count();
    const { text } = await signInWithProvider(provider.authorizationUrl!, false);
    expect(text).toContain('accounts of evil.test may not sign in to this tenant');
    expect(await cluster.prisma.oAuthGrant.count()).toBe(before);
  }, 30_000);

  /** Raw HTTP up to the provider's answer: the consent page's cookie and form, the SSO start, the provider's redirect back. */
  async function roundTrip(slug: string): Promise<{ callback: URL; ssoCookie: string }> {
    const registered = (await (await fetch(`${proxy.url}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_name: 'raw', redirect_uris: [REDIRECT] }) })).json()) as { client_id: string };
    const challenge = createHash('sha256').update('v'.repeat(43)).digest('base64url');
    const query = new URLSearchParams({ response_type: 'code', client_id: registered.client_id, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', resource: `${proxy.url}/t/${slug}/mcp`, state: 's' });
    const page = await fetch(`${proxy.url}/oauth/authorize?${query}`);
    const consentCookie = page.headers.get('set-cookie')!.split(';')[0]!;
    const sealed = /name="request" value="([^"]+)"/.exec(await page.text())![1]!;
    const start = await fetch(`${proxy.url}/oauth/sso/start`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: consentCookie }, body: new URLSearchParams({ request: sealed.replace(/&amp;/g, '&'), decision: 'sso' }) });
    expect(start.status).toBe(303);
    const ssoCookie = start.headers.get('set-cookie')!.split(';')[0]!;
    const atProvider = await fetch(start.headers.get('location')!, { redirect: 'manual' });
    return { callback: new URL(atProvider.headers.get('location')!), ssoCookie };
  }

  it('refuses a tampered SSO state and a state brought back without the browser’s cookie', async () => {
    idp.nextUser = { sub: 'user-ada', email: 'ada@acme.test' };
    const { callback, ssoCookie } = await roundTrip('acme');
    const state = callback.searchParams.get('state')!;
    const tampered = new URL(callback);
    tampered.searchParams.set('state', `${state.slice(0, -3)}${state.slice(-3) === 'AAA' ? 'BBB' : 'AAA'}`);
    const altered = await fetch(tampered, { headers: { cookie: ssoCookie }, redirect: 'manual' });
    expect(altered.status).toBe(400);
    expect(await altered.text()).toContain('not started in this browser');
    const noCookie = await fetch(callback, { redirect: 'manual' });
    expect(noCookie.status).toBe(400);
    // The untouched answer, with its cookie, shows the consent page.
    const genuine = await fetch(callback, { headers: { cookie: ssoCookie }, redirect: 'manual' });
    expect(genuine.status).toBe(200);
    expect(await genuine.text()).toContain('Signed in as <strong>ada@acme.test</strong>');
    // The round trip's cookie is spent; the consent form's own cookie is set.
    const cookies = genuine.headers.getSetCookie();
    expect(cookies).toEqual(expect.arrayContaining([expect.stringMatching(/^sb_oauth_sso=; Path=\/oauth\/sso;.*Max-Age=0/), expect.stringMatching(/^sb_oauth_consent=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict/)]));
  }, 30_000);

  it('does not sign into a tenant with a code its provider issued for another tenant’s configuration', async () => {
    idp.nextUser = { sub: 'user-ada', email: 'ada@acme.test' };
    const acme = await roundTrip('acme');
    const globex = await roundTrip('globex');
    expect(idp.authorizations.at(-1)!.get('client_id')).toBe('globex-client');
    // Globex's code brought back with acme's state and cookie.
    const swapped = new URL(acme.callback);
    swapped.searchParams.set('code', globex.callback.searchParams.get('code')!);
    const answer = await fetch(swapped, { headers: { cookie: acme.ssoCookie }, redirect: 'manual' });
    expect(answer.status).toBe(400);
    expect(await answer.text()).not.toContain('Signed in as');
  }, 30_000);
});
