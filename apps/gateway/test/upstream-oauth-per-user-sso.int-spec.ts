import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UrlElicitationRequiredError } from '@modelcontextprotocol/sdk/types.js';
import type { Browser } from 'playwright-core';
import { ssoSecretAad } from '@switchboard/oauth-policy';
import { SecretBox } from '@switchboard/secrets';
import { launchBrowser, startMiniOidcProvider, type MiniOidcProvider } from '@switchboard/testing';
import { ConnectSeals, connectUrlOf, UpstreamCredentialStore } from '@switchboard/upstream-auth';
import { MemoryOAuthProvider } from './oauth-cluster';
import { installPerUserUpstream, startObservedOAuthCluster, type ObservedOAuthCluster } from './observed-oauth-cluster';

/**
 * Upstream OAuth, per-user mode, for people who signed their MCP client in through the tenant's
 * single sign-on (docs/upstream-oauth.md "Per-user mode", "The same-person proof"). The set-up of
 * upstream-oauth-per-user.int-spec.ts (tenant F's remote-mcp installation `up` federates tenant
 * U's MCP URL on the same two-node cluster behind a non-sticky balancer), with F signing people in
 * through a small OpenID Connect provider on loopback. Person A signs their MCP client in through
 * it, calls the per-user tool, and opens the link in Chromium (no JavaScript): "Sign in with …"
 * goes to the provider and back, the gateway compares the provider's person with the link's, and
 * A goes on to U and approves as U's identity uA. Whom U saw is read at the balancer. Then the
 * attacker's side: B, another person of F's provider, with A's link; states of one purpose
 * brought to the other; tampered states.
 */

const FLOW_TIMEOUT_MS = 60_000;
const REDIRECT = 'http://127.0.0.1:53683/callback';
const UPSTREAM_PATH = '/t/upstream-u/mcp';
const PERSON_A = { sub: 'user-a', email: 'a@front.test', email_verified: true };
const PERSON_B = { sub: 'user-b', email: 'b@front.test', email_verified: true };
const text = (result: unknown) => ((result as { content: { type: string; text?: string }[] }).content[0]?.text ?? '');
const isError = (result: unknown) => (result as { isError?: boolean }).isError === true;
const subOf = (authorization: string | undefined) =>
  authorization?.startsWith('Bearer ') ? (JSON.parse(Buffer.from(authorization.slice(7).split('.')[1]!, 'base64url').toString('utf8')) as { sub?: string }).sub : undefined;
const cookieNamed = (response: Response, name: string) => response.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
const valueOf = (setCookie: string | undefined) => setCookie!.split(';')[0]!;
const hiddenField = (html: string, name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(html)![1]!.replace(/&amp;/g, '&');

describe('remote-mcp per-user: a person signed in through single sign-on connects their own upstream account', () => {
  let cluster: ObservedOAuthCluster;
  let idp: MiniOidcProvider;
  let browser: Browser;
  let seals: ConnectSeals;
  let store: UpstreamCredentialStore;
  let front: string;
  let upstream: string;
  let installationId: string;
  let uA: { id: string; token: string };
  let clientA: Client;
  const subjectA = () => `sso:${idp.issuer}#${PERSON_A.sub}`;
  const subjectB = () => `sso:${idp.issuer}#${PERSON_B.sub}`;
  const providerHost = () => new URL(idp.issuer).host;
  const rowOf = (subject: string) => cluster.prisma.upstreamCredential.findUnique({ where: { tenantId_installationId_subject: { tenantId: front, installationId, subject } } });
  /** A link for A as the gateway's accessor makes it (the same library call), for the attacks that need a fresh one. */
  const linkForA = async () => connectUrlOf(cluster.url, (await store.prepareConnect({ tenantId: front, installationId, subject: subjectA() })).ticket);

  /** Whom U saw on the tools/call requests that reached its endpoint while `run` ran, by the text each call echoed. */
  async function seenByUpstream<T>(run: () => Promise<T>): Promise<{ result: T; subs: Map<string, string | undefined> }> {
    const mark = cluster.seen.length;
    const result = await run();
    const subs = new Map<string, string | undefined>();
    for (const request of cluster.seen.slice(mark)) {
      if (request.method !== 'POST' || !request.path.startsWith(UPSTREAM_PATH) || !request.body.includes('"tools/call"')) continue;
      const message = JSON.parse(request.body) as { params?: { arguments?: { text?: string } } };
      subs.set(message.params?.arguments?.text ?? '', subOf(request.authorization));
    }
    return { result, subs };
  }

  /** F's consent page without a browser, signed in through the provider as `idp.nextUser`: "Sign in with …", back, Approve. */
  async function approveWithSso(url: URL): Promise<URL> {
    const page = await fetch(url, { redirect: 'manual' });
    const start = await fetch(`${cluster.url}/oauth/sso/start`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: valueOf(cookieNamed(page, 'sb_oauth_consent')), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ request: hiddenField(await page.text(), 'request'), decision: 'sso' }),
    });
    expect(start.status).toBe(303);
    const back = new URL((await fetch(start.headers.get('location')!, { redirect: 'manual' })).headers.get('location')!);
    const consent = await fetch(back, { redirect: 'manual', headers: { cookie: valueOf(cookieNamed(start, 'sb_oauth_sso')) } });
    const html = await consent.text();
    expect(html).toContain('Signed in as');
    const body = new URLSearchParams({ request: hiddenField(html, 'request'), decision: 'approve' });
    for (const [, plugin] of html.matchAll(/name="plugin" value="([^"]+)"/g)) body.append('plugin', plugin!);
    const approved = await fetch(`${cluster.url}/oauth/authorize`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: valueOf(cookieNamed(consent, 'sb_oauth_consent')), 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    expect(approved.status).toBe(303);
    return new URL(approved.headers.get('location')!);
  }

  /** A's MCP client, signed in to F through the provider, declaring URL-mode elicitation (2025-11-25). */
  async function ssoSignedInClient(): Promise<Client> {
    idp.nextUser = PERSON_A;
    const provider = new MemoryOAuthProvider(REDIRECT, 'client of A', 'state-A');
    const serverUrl = `${cluster.url}/t/front-f/mcp`;
    expect(await auth(provider, { serverUrl })).toBe('REDIRECT');
    const callback = await approveWithSso(provider.authorizationUrl!);
    expect(await auth(provider, { serverUrl, authorizationCode: callback.searchParams.get('code')! })).toBe('AUTHORIZED');
    const client = new Client({ name: 'A', version: '1.0.0' }, { capabilities: { elicitation: { url: {} } } });
    await client.connect(new StreamableHTTPClientTransport(new URL(serverUrl), { authProvider: provider }));
    return client;
  }

  /** The link A's call answers while A's account is not usable: -32042 with one URL-mode elicitation. */
  async function linkFromA(say: string): Promise<string> {
    const error = await clientA.callTool({ name: 'up__echo__echo', arguments: { text: say } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UrlElicitationRequiredError);
    const [elicitation] = (error as UrlElicitationRequiredError).elicitations;
    expect(elicitation).toMatchObject({ mode: 'url', elicitationId: expect.any(String) });
    return elicitation!.url;
  }

  /** The connect page's sign-in without a browser, up to the provider's answer: the page, "Sign in with …", the provider's redirect back. */
  async function connectRoundTrip(link: string): Promise<{ page: Response; start: Response; callback: URL; ssoCookie: string }> {
    const page = await fetch(link, { redirect: 'manual' });
    expect(page.status).toBe(200);
    const start = await fetch(`${cluster.url}/oauth/upstream/connect`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: valueOf(cookieNamed(page, 'sb_upstream_signin')), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ signin: hiddenField(await page.clone().text(), 'signin') }),
    });
    expect(start.status).toBe(303);
    const callback = new URL((await fetch(start.headers.get('location')!, { redirect: 'manual' })).headers.get('location')!);
    return { page, start, callback, ssoCookie: valueOf(cookieNamed(start, 'sb_oauth_sso')) };
  }

  /** What must not move when a sign-in is refused: A's row (its ticket unspent), B's absence, U's grants. */
  async function nothingMoved<T>(run: () => Promise<T>): Promise<T> {
    const before = { a: await rowOf(subjectA()), b: await rowOf(subjectB()), grants: await cluster.prisma.oAuthGrant.count({ where: { tenantId: upstream } }) };
    const result = await run();
    expect({ a: await rowOf(subjectA()), b: await rowOf(subjectB()), grants: await cluster.prisma.oAuthGrant.count({ where: { tenantId: upstream } }) }).toEqual(before);
    return result;
  }

  beforeAll(async () => {
    idp = await startMiniOidcProvider();
    idp.clients.set('front-client', 'front-secret');
    cluster = await startObservedOAuthCluster('upstream_per_user_sso', { OUTBOUND_ALLOW_CIDRS: '127.0.0.1/32' });
    const box = new SecretBox({ current: cluster.secretsKey });
    seals = new ConnectSeals({ current: cluster.secretsKey });
    store = new UpstreamCredentialStore(cluster.prisma, box, seals);
    upstream = (await cluster.tenant('upstream-u', 'Upstream U')).tenantId;
    front = (await cluster.tenant('front-f', 'Front F', [])).tenantId;
    await cluster.prisma.tenant.update({
      where: { id: front },
      data: { oauth: { sso: { issuer: idp.issuer, clientId: 'front-client', clientSecretSealed: box.encrypt({ clientSecret: 'front-secret' }, ssoSecretAad(front)), allowedEmailDomains: ['front.test'] } } },
    });
    uA = await cluster.issueKey(upstream, 'identity uA');
    installationId = await installPerUserUpstream(cluster.prisma, front, `${cluster.url}${UPSTREAM_PATH}`);
    browser = await launchBrowser();
    clientA = await ssoSignedInClient();
  }, 90_000);

  afterAll(async () => {
    await clientA?.close();
    await browser?.close();
    await cluster?.close();
    await idp?.close();
  });

  it('answers A\'s first call with a link sealed for A\'s single sign-on subject, whose page offers only "Sign in with" the tenant\'s provider', async () => {
    const link = await linkFromA('A first');
    expect(seals.openTicket(new URL(link).searchParams.get('ticket')!)).toMatchObject({ tenantId: front, installationId, subject: subjectA() });
    const page = await fetch(link, { redirect: 'manual' });
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain(`Sign in with ${providerHost()}`);
    // A key could never give A's subject: no key field.
    expect(html).not.toContain('name="api_key"');
    // The form's answer is a redirect to the provider: form-action names its origin besides 'self', nothing else.
    expect(page.headers.get('content-security-policy')).toContain(`form-action 'self' ${idp.issuer};`);
    expect(cookieNamed(page, 'sb_upstream_signin')).toMatch(/; Path=\/oauth\/upstream\/connect; HttpOnly; SameSite=Strict/);
  });

  it('attacker: B, another person of the provider, signing in on A\'s link is refused (403), nothing spent or stored; A then connects with the same link and the next call reaches U as uA', async () => {
    const link = await linkFromA('A again');
    idp.nextUser = PERSON_B;
    const refused = await nothingMoved(async () => {
      const { callback, ssoCookie } = await connectRoundTrip(link);
      return fetch(callback, { redirect: 'manual', headers: { cookie: ssoCookie } });
    });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('This link is for someone else');

    // A, in Chromium, with the same link.
    idp.nextUser = PERSON_A;
    const context = await browser.newContext({ javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      await page.goto(link);
      await page.getByRole('button', { name: `Sign in with ${providerHost()}` }).click();
      await page.waitForURL(`${cluster.url}/oauth/sso/callback**`, { timeout: FLOW_TIMEOUT_MS });
      await page.getByRole('link', { name: /^Continue to / }).click();
      await page.getByLabel('API key of Upstream U').fill(uA.token);
      await page.getByRole('button', { name: 'Approve' }).click();
      await page.waitForURL(`${cluster.url}/oauth/upstream/callback**`, { timeout: FLOW_TIMEOUT_MS });
      expect(await page.textContent('body')).toContain('Upstream connected');
    } finally {
      await context.close();
    }
    expect((await rowOf(subjectA()))?.status).toBe('connected');
    expect(await rowOf(subjectB())).toBeNull();
    const audit = await cluster.prisma.auditEvent.findMany({ where: { tenantId: front, action: 'upstream-credential.connect' } });
    expect(audit.map((e) => [e.actor, e.details])).toEqual([[subjectA(), expect.objectContaining({ installation: 'up', subject: 'user', person: subjectA() })]]);
    // The used link does not open again, not even for A.
    expect((await fetch(link, { redirect: 'manual' })).status).toBe(400);

    const a = await seenByUpstream(() => clientA.callTool({ name: 'up__echo__echo', arguments: { text: 'from A' } }));
    expect([isError(a.result), text(a.result)]).toEqual([false, 'from A']);
    expect(a.subs).toEqual(new Map([['from A', `key:${uA.id}`]]));
  }, 120_000);

  it('attacker: a consent\'s state does not finish a connect, and a connect\'s state finishes no consent and works once', async () => {
    idp.nextUser = PERSON_A;
    const link = await linkForA();
    const connect = await connectRoundTrip(link);
    // A consent's round trip in another browser of A's: its state and cookie bring the consent page back, never a way on to U.
    const registered = (await (await fetch(`${cluster.url}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_name: 'raw', redirect_uris: [REDIRECT] }) })).json()) as { client_id: string };
    const authorizeUrl = new URL(`${cluster.url}/oauth/authorize`);
    for (const [name, value] of Object.entries({ response_type: 'code', client_id: registered.client_id, redirect_uri: REDIRECT, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', resource: `${cluster.url}/t/front-f/mcp`, state: 's' }))
      authorizeUrl.searchParams.set(name, value);
    const consentPage = await fetch(authorizeUrl, { redirect: 'manual' });
    const consentStart = await fetch(`${cluster.url}/oauth/sso/start`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: valueOf(cookieNamed(consentPage, 'sb_oauth_consent')), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ request: hiddenField(await consentPage.text(), 'request'), decision: 'sso' }),
    });
    const consentCallback = new URL((await fetch(consentStart.headers.get('location')!, { redirect: 'manual' })).headers.get('location')!);
    const consentCookie = valueOf(cookieNamed(consentStart, 'sb_oauth_sso'));

    await nothingMoved(async () => {
      const asConsent = await fetch(consentCallback, { redirect: 'manual', headers: { cookie: consentCookie } });
      const html = await asConsent.text();
      expect([asConsent.status, html.includes('Signed in as'), html.includes('Continue to')]).toEqual([200, true, false]);
      // Each state with the other round trip's cookie: neither opens (bound to its browser, and sealed for its purpose).
      for (const [url, cookie] of [
        [consentCallback, connect.ssoCookie],
        [connect.callback, consentCookie],
      ] as const) {
        const crossed = await fetch(url, { redirect: 'manual', headers: { cookie } });
        expect([crossed.status, (await crossed.text()).includes('not started in this browser')]).toEqual([400, true]);
      }
    });

    // The connect's own state and cookie: the way on to U (a link page), the link spent.
    const genuine = await fetch(connect.callback, { redirect: 'manual', headers: { cookie: connect.ssoCookie } });
    const html = await genuine.text();
    expect([genuine.status, html.includes('Continue to'), html.includes('Signed in as')]).toEqual([200, true, false]);
    expect(genuine.headers.getSetCookie()).toEqual(expect.arrayContaining([expect.stringMatching(/^sb_oauth_sso=; Path=\/oauth\/sso;.*Max-Age=0/), expect.stringMatching(/^sb_upstream_connect=[A-Za-z0-9_-]+; Path=\/oauth\/upstream\/callback; HttpOnly; SameSite=Lax/)]));
    // Brought back a second time: nothing more happens (the provider's code and the link are spent).
    const replayed = await fetch(connect.callback, { redirect: 'manual', headers: { cookie: connect.ssoCookie } });
    expect([replayed.status, (await replayed.text()).includes('Continue to')]).toEqual([400, false]);
    expect((await fetch(link, { redirect: 'manual' })).status).toBe(400);
  }, 60_000);

  it('attacker: a tampered connect state, one brought back without its cookie, and a sign-in form posted without the page\'s cookie do not reach the provider or U', async () => {
    idp.nextUser = PERSON_A;
    const link = await linkForA();
    const { page, callback, ssoCookie } = await connectRoundTrip(link);
    await nothingMoved(async () => {
      const state = callback.searchParams.get('state')!;
      const tampered = new URL(callback);
      tampered.searchParams.set('state', `${state.slice(0, -3)}${state.slice(-3) === 'AAA' ? 'BBB' : 'AAA'}`);
      for (const [url, headers] of [
        [tampered, { cookie: ssoCookie }],
        [callback, {}],
      ] as [URL, Record<string, string>][]) {
        const answer = await fetch(url, { redirect: 'manual', headers });
        expect([answer.status, (await answer.text()).includes('Continue to')]).toEqual([400, false]);
      }
      // A cross-site form carries no SameSite=Strict cookie: no round trip starts.
      const authorizations = idp.authorizations.length;
      const posted = await fetch(`${cluster.url}/oauth/upstream/connect`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ signin: hiddenField(await page.text(), 'signin') }),
      });
      expect([posted.status, posted.headers.get('location')]).toEqual([400, null]);
      expect(idp.authorizations.length).toBe(authorizations);
    });
  }, 60_000);

  it('says so, instead of a sign-in that can never match, when the tenant no longer signs people in through the link\'s provider', async () => {
    const link = await linkForA();
    const settings = (await cluster.prisma.tenant.findUniqueOrThrow({ where: { id: front } })).oauth as object;
    await cluster.prisma.tenant.update({ where: { id: front }, data: { oauth: {} } });
    try {
      const page = await nothingMoved(() => fetch(link, { redirect: 'manual' }));
      expect([page.status, (await page.text()).includes('You cannot be confirmed here')]).toEqual([409, true]);
    } finally {
      await cluster.prisma.tenant.update({ where: { id: front }, data: { oauth: settings } });
    }
  }, 30_000);
});
