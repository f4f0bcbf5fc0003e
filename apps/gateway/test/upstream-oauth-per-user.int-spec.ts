import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UrlElicitationRequiredError } from '@modelcontextprotocol/sdk/types.js';
import type { Browser } from 'playwright-core';
import { SecretBox } from '@switchboard/secrets';
import { connectMcpClient, eventually, launchBrowser } from '@switchboard/testing';
import { CONNECT_TTL_MS, ConnectSeals, connectUrlOf, UpstreamCredentialStore } from '@switchboard/upstream-auth';
import { approveWithKey, MemoryOAuthProvider, revokeAtUpstream } from './oauth-cluster';
import { installPerUserUpstream, startObservedOAuthCluster, type ObservedOAuthCluster } from './observed-oauth-cluster';

/**
 * Upstream OAuth, per-user mode, end to end (docs/upstream-oauth.md "Per-user mode"). Tenant F's
 * remote-mcp installation `up` federates tenant U's MCP URL on the same two-node cluster, U behind
 * the platform's own authorization server. Two people of F, A and B, sign their MCP clients in
 * with OAuth (each with their own API key, so their grants' subjects differ); each call of
 * theirs must reach U with their own upstream account: A connects U's identity uA, B connects
 * uB, in Chromium, through the link their own first call answered. Whom U saw is read at the
 * balancer in front of the cluster: the `sub` of the bearer token on each tools/call that
 * reached U's endpoint (the token U's gateway verifies and acts as).
 */

const FLOW_TIMEOUT_MS = 60_000;
const REDIRECT = 'http://127.0.0.1:53682/callback';
const UPSTREAM_PATH = '/t/upstream-u/mcp';
const text = (result: unknown) => ((result as { content: { type: string; text?: string }[] }).content[0]?.text ?? '');
const isError = (result: unknown) => (result as { isError?: boolean }).isError === true;
const linkIn = (message: string) => /https?:\/\/\S+\/oauth\/upstream\/connect\?ticket=\S+/.exec(message)?.[0];
const subOf = (authorization: string | undefined) =>
  authorization?.startsWith('Bearer ') ? (JSON.parse(Buffer.from(authorization.slice(7).split('.')[1]!, 'base64url').toString('utf8')) as { sub?: string }).sub : undefined;

describe('remote-mcp with auth oauth, per-user: each person\'s calls reach the upstream as their own account', () => {
  let cluster: ObservedOAuthCluster;
  let browser: Browser;
  let seals: ConnectSeals;
  let box: SecretBox;
  let front: string;
  let upstream: string;
  let installationId: string;
  /** F's people (their API keys sign their MCP clients in) and U's identities (their keys sign in at the upstream). */
  const keys = {} as Record<'fA' | 'fB' | 'fService' | 'uA' | 'uB', { id: string; token: string }>;
  /** Makes links as the gateway's accessor does (the same library call), for the attacks that need a link while A is connected. */
  let store: UpstreamCredentialStore;
  const linkForA = async () => connectUrlOf(cluster.url, (await store.prepareConnect({ tenantId: front, installationId, subject: subjectA() })).ticket);
  let clientA: Client;
  let clientB: Client;
  let serviceClient: Client;
  const subjectA = () => `key:${keys.fA.id}`;
  const subjectB = () => `key:${keys.fB.id}`;
  const rowOf = (subject: string) => cluster.prisma.upstreamCredential.findUnique({ where: { tenantId_installationId_subject: { tenantId: front, installationId, subject } } });
  const sealedTokensOf = async (subject: string) =>
    box.decrypt((await rowOf(subject))!.sealed!, `upstream-credential/tokens/v1:${front}:${installationId}:${subject}`) as { accessToken: string; refreshToken: string; client: { client_id: string } };

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

  /** A person's MCP client, signed in with OAuth on F's consent page with their own API key. */
  async function signedInClient(apiKey: string, label: string, capabilities: Record<string, unknown> = {}): Promise<Client> {
    const provider = new MemoryOAuthProvider(REDIRECT, `client of ${label}`, `state-${label}`);
    const serverUrl = `${cluster.url}/t/front-f/mcp`;
    expect(await auth(provider, { serverUrl })).toBe('REDIRECT');
    const { callback } = await approveWithKey(provider.authorizationUrl!, apiKey);
    expect(await auth(provider, { serverUrl, authorizationCode: callback.searchParams.get('code')! })).toBe('AUTHORIZED');
    const client = new Client({ name: label, version: '1.0.0' }, { capabilities });
    await client.connect(new StreamableHTTPClientTransport(new URL(serverUrl), { authProvider: provider }));
    return client;
  }

  /**
   * The link a person's call answers while their account is not usable: A's client declared no
   * URL-mode elicitation, so a tool error carries it; B's did, so it comes as -32042.
   */
  async function linkFrom(client: Client, say: string): Promise<string> {
    if (client === clientB) {
      const error = await client.callTool({ name: 'up__echo__echo', arguments: { text: say } }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(UrlElicitationRequiredError);
      expect((error as UrlElicitationRequiredError).code).toBe(-32042);
      const [elicitation] = (error as UrlElicitationRequiredError).elicitations;
      expect(elicitation).toMatchObject({ mode: 'url', elicitationId: expect.any(String), message: expect.stringContaining('Your upstream account for installation "up"') });
      return elicitation!.url;
    }
    const result = await client.callTool({ name: 'up__echo__echo', arguments: { text: say } });
    expect(isError(result)).toBe(true);
    const link = linkIn(text(result));
    if (!link) throw new Error(`no connect link in: ${text(result)}`);
    return link;
  }

  /** The person in Chromium: opens their link, signs in to F as themselves, goes on to U and approves as their U identity. */
  async function connectInBrowser(link: string, frontKey: string, upstreamKey: string): Promise<string> {
    const context = await browser.newContext({ javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      await page.goto(link);
      await page.getByLabel('API key of Front F').fill(frontKey);
      await page.getByRole('button', { name: 'Sign in and continue' }).click();
      await page.getByRole('link', { name: /^Continue to / }).click();
      await page.getByLabel('API key of Upstream U').fill(upstreamKey);
      await page.getByRole('button', { name: 'Approve' }).click();
      await page.waitForURL(`${cluster.url}/oauth/upstream/callback**`, { timeout: FLOW_TIMEOUT_MS });
      return (await page.textContent('body')) ?? '';
    } finally {
      await context.close();
    }
  }

  /** The sign-in step without a browser: the page's cookie and sealed form, then the POST. */
  async function signInWithFetch(link: string, frontKey: string): Promise<{ status: number; body: string }> {
    const page = await fetch(link, { redirect: 'manual' });
    expect(page.status).toBe(200);
    const cookie = page.headers.get('set-cookie')!.split(';')[0]!;
    const sealed = /name="signin" value="([^"]+)"/.exec(await page.text())![1]!.replace(/&amp;/g, '&');
    const answer = await fetch(new URL('/oauth/upstream/connect', link), {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ signin: sealed, api_key: frontKey }),
    });
    return { status: answer.status, body: await answer.text() };
  }

  beforeAll(async () => {
    cluster = await startObservedOAuthCluster('upstream_per_user', { OUTBOUND_ALLOW_CIDRS: '127.0.0.1/32' });
    box = new SecretBox({ current: cluster.secretsKey });
    seals = new ConnectSeals({ current: cluster.secretsKey });
    store = new UpstreamCredentialStore(cluster.prisma, box, seals);
    upstream = (await cluster.tenant('upstream-u', 'Upstream U')).tenantId;
    front = (await cluster.tenant('front-f', 'Front F', [])).tenantId;
    keys.uA = await cluster.issueKey(upstream, 'identity uA');
    keys.uB = await cluster.issueKey(upstream, 'identity uB');
    keys.fA = await cluster.issueKey(front, 'person A');
    keys.fB = await cluster.issueKey(front, 'person B');
    keys.fService = await cluster.issueKey(front, 'a service, no person');
    installationId = await installPerUserUpstream(cluster.prisma, front, `${cluster.url}${UPSTREAM_PATH}`);
    browser = await launchBrowser();
    clientA = await signedInClient(keys.fA.token, 'A');
    // B's client declares URL-mode elicitation (2025-11-25): its connect link comes as URLElicitationRequiredError.
    clientB = await signedInClient(keys.fB.token, 'B', { elicitation: { url: {} } });
    serviceClient = await connectMcpClient(cluster.url, '/t/front-f', keys.fService.token, 'streamable-http');
  }, 90_000);

  afterAll(async () => {
    await Promise.all([clientA, clientB, serviceClient].map((c) => c?.close()));
    await browser?.close();
    await cluster?.close();
  });

  it('lists the declared tool to every caller before anyone connected, without asking the upstream', async () => {
    const mark = cluster.seen.length;
    for (const client of [clientA, clientB, serviceClient]) expect((await client.listTools()).tools.map((t) => t.name)).toContain('up__echo__echo');
    expect(cluster.seen.slice(mark).filter((r) => r.path.startsWith(UPSTREAM_PATH))).toEqual([]);
  });

  it('attacker: an API-key caller gets the clear error, no link, and no credential row (neither anyone\'s nor the shared one)', async () => {
    const result = await serviceClient.callTool({ name: 'up__echo__echo', arguments: { text: 'service' } });
    expect(isError(result)).toBe(true);
    expect(text(result)).toMatch(/^Installation "up" uses a personal upstream account .*API key, which names no person.*OAuth/);
    expect(linkIn(text(result))).toBeUndefined();
    expect(await cluster.prisma.upstreamCredential.count({ where: { tenantId: front } })).toBe(0);
  });

  it('answers A\'s first call with a connect link sealed for A, on the gateway, carrying no token', async () => {
    const link = await linkFrom(clientA, 'A first');
    const url = new URL(link);
    expect(`${url.origin}${url.pathname}`).toBe(`${cluster.url}/oauth/upstream/connect`);
    expect(seals.openTicket(url.searchParams.get('ticket')!)).toMatchObject({ tenantId: front, installationId, subject: subjectA() });
    expect((await rowOf(subjectA()))?.status).toBe('pending');
    expect(await rowOf(subjectB())).toBeNull();
  });

  it('attacker: B opening A\'s link and signing in as B is refused and stores nothing; A\'s link still works for A', async () => {
    const link = await linkFrom(clientA, 'A again');
    const before = await rowOf(subjectA());
    const grantsBefore = await cluster.prisma.oAuthGrant.count({ where: { tenantId: upstream } });
    const refused = await signInWithFetch(link, keys.fB.token);
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('This link is for someone else');
    // Nothing moved: A's row is as it was (its ticket not spent), B has none, no grant was made at U.
    expect(await rowOf(subjectA())).toEqual(before);
    expect(await rowOf(subjectB())).toBeNull();
    expect(await cluster.prisma.oAuthGrant.count({ where: { tenantId: upstream } })).toBe(grantsBefore);
    // A wrong key (any tenant's) is the form again, not a refusal that tells whose the link is.
    const wrong = await signInWithFetch(link, keys.uA.token);
    expect([wrong.status, wrong.body.includes('not a valid API key')]).toEqual([400, true]);

    // A, with the same link: connects U's identity uA.
    expect(await connectInBrowser(link, keys.fA.token, keys.uA.token)).toContain('Upstream connected');
    expect((await rowOf(subjectA()))?.status).toBe('connected');
    // The used link does not open again (single use), not even for A.
    expect((await fetch(link, { redirect: 'manual' })).status).toBe(400);
    const audit = await cluster.prisma.auditEvent.findMany({ where: { tenantId: front, action: 'upstream-credential.connect' } });
    expect(audit.map((e) => e.details)).toEqual([expect.objectContaining({ installation: 'up', subject: 'user', person: subjectA() })]);
  }, 120_000);

  it('A\'s calls reach U as uA; B, not connected, gets B\'s own link and nothing of A\'s reaches U for B', async () => {
    const a = await seenByUpstream(() => clientA.callTool({ name: 'up__echo__echo', arguments: { text: 'from A' } }));
    expect([isError(a.result), text(a.result)]).toEqual([false, 'from A']);
    expect(a.subs).toEqual(new Map([['from A', `key:${keys.uA.id}`]]));

    const b = await seenByUpstream(() => linkFrom(clientB, 'from B'));
    expect(b.subs.size).toBe(0);
    expect(seals.openTicket(new URL(b.result).searchParams.get('ticket')!)).toMatchObject({ subject: subjectB() });
  }, 60_000);

  it('B connects U\'s identity uB; interleaved calls of both over both nodes each reach U as their own identity', async () => {
    expect(await connectInBrowser(await linkFrom(clientB, 'B asks'), keys.fB.token, keys.uB.token)).toContain('Upstream connected');
    expect((await sealedTokensOf(subjectA())).accessToken).not.toBe((await sealedTokensOf(subjectB())).accessToken);
    const says = ['A 0', 'B 0', 'A 1', 'B 1', 'A 2', 'B 2'];
    const run = await seenByUpstream(() => Promise.all(says.map((say) => (say.startsWith('A') ? clientA : clientB).callTool({ name: 'up__echo__echo', arguments: { text: say } }))));
    expect(run.result.map((r) => [isError(r), text(r)])).toEqual(says.map((say) => [false, say]));
    expect(run.subs).toEqual(new Map(says.map((say) => [say, `key:${keys[say.startsWith('A') ? 'uA' : 'uB'].id}`])));
  }, 120_000);

  it('attacker: a tampered link, an expired one, and a sign-in form posted without its browser\'s cookie are refused', async () => {
    const link = await linkForA();
    const ticket = new URL(link).searchParams.get('ticket')!;
    const tampered = new URL(link);
    tampered.searchParams.set('ticket', ticket.slice(0, -3) + (ticket.endsWith('A') ? 'BBB' : 'AAA'));
    expect((await fetch(tampered, { redirect: 'manual' })).status).toBe(400);
    // Sealed by the platform's own key, for A, but an hour ago: expired.
    const past = new UpstreamCredentialStore(cluster.prisma, box, new ConnectSeals({ current: cluster.secretsKey }, { now: () => Date.now() - CONNECT_TTL_MS - 60_000 }));
    const expired = (await past.prepareConnect({ tenantId: front, installationId, subject: subjectA() })).ticket;
    expect((await fetch(`${cluster.url}/oauth/upstream/connect?ticket=${encodeURIComponent(expired)}`, { redirect: 'manual' })).status).toBe(400);
    // A cross-site form (no SameSite=Strict cookie), or one posted with another browser's cookie.
    const fresh = await linkForA();
    const page = await fetch(fresh, { redirect: 'manual' });
    const sealed = /name="signin" value="([^"]+)"/.exec(await page.text())![1]!.replace(/&amp;/g, '&');
    const otherBrowser = (await fetch(fresh, { redirect: 'manual' })).headers.get('set-cookie')!.split(';')[0]!;
    for (const headers of [{}, { cookie: otherBrowser }] as Record<string, string>[]) {
      const posted = await fetch(`${cluster.url}/oauth/upstream/connect`, {
        method: 'POST',
        redirect: 'manual',
        headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ signin: sealed, api_key: keys.fA.token }),
      });
      expect(posted.status).toBe(400);
    }
    // A single sign-on person's link on a tenant without single sign-on: no sign-in could match, and the page says so instead of a key form they could never pass
    // (the SSO sign-in itself: upstream-oauth-per-user-sso.int-spec.ts).
    const ssoTicket = (await store.prepareConnect({ tenantId: front, installationId, subject: 'sso:https://idp.example#someone' })).ticket;
    const sso = await fetch(connectUrlOf(cluster.url, ssoTicket), { redirect: 'manual' });
    expect([sso.status, (await sso.text()).includes('You cannot be confirmed here')]).toEqual([409, true]);
    // A is still connected to uA throughout.
    const still = await seenByUpstream(() => clientA.callTool({ name: 'up__echo__echo', arguments: { text: 'A still' } }));
    expect(still.subs).toEqual(new Map([['A still', `key:${keys.uA.id}`]]));
  }, 60_000);

  it('A\'s grant revoked at U: only A\'s credential needs reconnecting (audit event names A, A\'s error gives A a new link); B goes on as uB', async () => {
    const tokens = await sealedTokensOf(subjectA());
    expect(await revokeAtUpstream(cluster.url, tokens)).toBe(200);
    let last: unknown;
    await eventually(async () => {
      last = await clientA.callTool({ name: 'up__echo__echo', arguments: { text: 'A after revoke' } });
      return isError(last);
    }, 20_000);
    expect(text(last)).toMatch(/^Your upstream account for installation "up" needs reconnecting \(the upstream refused the refresh \(invalid_grant\)\)/);
    expect(linkIn(text(last))).toBeDefined();
    expect(text(last)).not.toContain(tokens.accessToken);
    expect((await rowOf(subjectA()))?.status).toBe('needs_reconnect');
    expect((await rowOf(subjectB()))?.status).toBe('connected');
    const events = await cluster.prisma.auditEvent.findMany({ where: { tenantId: front, action: 'upstream-credential.refresh-failed' } });
    expect(events.map((e) => e.details)).toEqual([expect.objectContaining({ installation: 'up', subject: 'user', person: subjectA() })]);
    // B, and only B's identity, still.
    const b = await seenByUpstream(() => clientB.callTool({ name: 'up__echo__echo', arguments: { text: 'B after A revoked' } }));
    expect([isError(b.result), text(b.result)]).toEqual([false, 'B after A revoked']);
    expect(b.subs).toEqual(new Map([['B after A revoked', `key:${keys.uB.id}`]]));
  }, 60_000);
});
