import { randomBytes } from 'node:crypto';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UrlElicitationRequiredError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { createTempDataDir, launchBrowser, startApiProcess, type ApiProcess } from '@switchboard/testing';
import { ConnectSeals } from '@switchboard/upstream-auth';
import jwt from 'jsonwebtoken';
import type { Browser } from 'playwright-core';
import { npmBin } from '../hosted-fixtures';
import { approveWithKey, MemoryOAuthProvider } from '../oauth-cluster';
import { RestartableUpstream } from '../restartable-upstream';
import { connectClient, disconnect, GENEROUS_LIMITS, rawPost, startCluster, startRoundRobinProxy, type Cluster, type RoundRobinProxy } from './cluster-harness';
import { readDocRequests, substitute, type DocRequest } from './federation-doc';
import { adminApiEnv, bearerSubject, CREATE_ISSUE_DESCRIPTION, startTap, startTrackerUpstream, type Tap, type TappedRequest, type TrackerUpstream } from './federation-fixtures';

/**
 * Issue 18, "Done when": following docs/federation.md, a tenant admin puts two upstream MCP
 * servers (official SDK servers on loopback: `github` with a static header, `linear` behind
 * OAuth) and a hosted stdio server (`everything`, from a template) behind one virtual server,
 * connects the OAuth one once for the tenant in Chromium and once per person (a second
 * installation of it in per-user mode: two people, each signed in to their MCP client with OAuth,
 * each connecting their own upstream identity in Chromium), and clients of all three eras, spread
 * over two gateway nodes, see exactly the curated tools. Every admin request is a `# step:` of
 * the doc, sent to the admin API as a third process on the nodes' database and Redis.
 *
 * The OAuth upstream is a second Switchboard tenant (`linear-co`) on the same nodes: its
 * installation `tracker` federates the tracker SDK server, and its per-plugin URL is protected by
 * the platform's own authorization server, whose consent page the tenant admin signs in to.
 * Between the balancer and each node sits a tap that writes down every request, so the test reads
 * whom that upstream saw on each call: the subject of the bearer token that reached its URL.
 */

const MODERN = '2026-07-28';
const SETUP_TIMEOUT_MS = 120_000;
const CONNECT_TIMEOUT_MS = 60_000;
/** The per-user installation's declared tool, as docs/federation.md step install-my-linear declares it. */
const MY_TICKET_DESCRIPTION = 'Creates an issue in Linear as you';
/** The curated tools, sorted by name, as every client must list them. */
const CURATED = [
  ['file_my_ticket', MY_TICKET_DESCRIPTION],
  ['file_ticket', CREATE_ISSUE_DESCRIPTION],
  ['get-sum', 'Returns the sum of two numbers'],
  ['whoami', 'Says which GitHub server process answered'],
];
const UPSTREAM_TENANT = { slug: 'linear-co', name: 'Linear Co' };
/** The OAuth upstream's URL path on the cluster, where the taps see whom it serves. */
const UPSTREAM_PATH = `/t/${UPSTREAM_TENANT.slug}/p/tracker/mcp`;
/** The people's MCP clients' redirect URI: never contacted, the test takes the code from the consent page's answer. */
const REDIRECT = 'http://127.0.0.1:53682/callback';
const linkIn = (message: string) => /https?:\/\/\S+\/oauth\/upstream\/connect\?ticket=\S+/.exec(message)?.[0];
const ticketOf = (link: string) => new URL(link).searchParams.get('ticket')!;

const text = (result: unknown) => ((result as CallToolResult).content[0] as { text: string }).text;
const outcome = (result: unknown) => ({ isError: (result as CallToolResult).isError === true, text: text(result) });

type AnyClient = Client | ModernClient;

describe('issue 18 done-when: two upstreams and a hosted server behind one virtual server on two nodes (cluster mode)', () => {
  let github: RestartableUpstream;
  let tracker: TrackerUpstream;
  let proxy: RoundRobinProxy;
  let cluster: Cluster;
  let taps: Tap[] = [];
  const tapped: TappedRequest[] = [];
  let api: ApiProcess;
  let browser: Browser;
  let removeApiData: () => void;
  const secretsKey = randomBytes(32);
  const adminSecret = randomBytes(32).toString('base64');
  const sign = (claims: object, subject: string) =>
    jwt.sign(claims, adminSecret, { algorithm: 'HS256', issuer: 'switchboard', audience: 'switchboard-admin', subject, expiresIn: 600 });
  const platformToken = sign({ role: 'admin' }, 'admin');
  let tenantAdminToken = '';
  let upstreamTenantKey = '';
  /** Whom Linear sees for the shared account: the subject of the grant the tenant admin approved with the consent key. */
  let sharedAtLinear = '';
  let teamKey = '';
  let narrowKey = '';

  const doc = readDocRequests();
  const ran = new Set<string>();
  /** The doc's example values, as the test's servers have them. */
  let replacements: Record<string, string> = {};

  async function admin(method: string, route: string, token: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(api.url + route, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const answer = await response.text();
    return { status: response.status, body: answer ? (JSON.parse(answer) as Record<string, unknown>) : {} };
  }

  /** Sends the doc's request of this step, as written there (the example URLs replaced); the status must be `expected`. */
  async function step(name: string, expected: number): Promise<Record<string, unknown>> {
    const request: DocRequest | undefined = doc.find((candidate) => candidate.step === name);
    if (!request) throw new Error(`docs/federation.md has no step ${name}`);
    const token = request.caller === 'platform' ? platformToken : tenantAdminToken;
    const answer = await admin(request.method, request.path, token, substitute(request.body, replacements));
    ran.add(name);
    expect({ step: name, status: answer.status, ...(answer.status === expected ? {} : { body: answer.body }) }).toEqual({ step: name, status: expected });
    return answer.body;
  }

  // The clients of the three eras, open from the first look at the virtual server to the end:
  // the upstream restart happens under their feet.
  let sse: Client;
  let streamable: Client;
  let modern: ModernClient;
  const eras = (): [string, AnyClient][] => [
    ['SDK v1 SSE', sse],
    ['SDK v1 Streamable HTTP', streamable],
    [`v2 client on ${MODERN}`, modern],
  ];
  const others: AnyClient[] = [];

  async function modernClient(path: string, token: string): Promise<ModernClient> {
    const client = new ModernClient({ name: 'federation-e2e', version: '1.0.0' }, { versionNegotiation: { mode: { pin: MODERN } } });
    // Through the balancer: successive requests land on alternate nodes.
    await client.connect(new ModernTransport(new URL(path, proxy.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    return client;
  }
  /** A v1 client kept for closing in afterAll. */
  async function v1(origin: string, path: string, token: string, transport: 'sse' | 'streamable-http'): Promise<Client> {
    const client = await connectClient(origin, path, token, transport);
    others.push(client);
    return client;
  }
  const listed = async (client: AnyClient) => (await client.listTools()).tools.map((tool) => [tool.name, tool.description ?? '']).sort(([a], [b]) => a!.localeCompare(b!));
  const names = async (client: AnyClient) => (await listed(client)).map(([name]) => name);

  beforeAll(async () => {
    github = new RestartableUpstream();
    await github.start();
    tracker = await startTrackerUpstream();
    // The balancer exists before the nodes: it is their PUBLIC_GATEWAY_URL (OAuth issuer, connect URLs).
    proxy = await startRoundRobinProxy(() => taps.map((tap) => tap.url));
    cluster = await startCluster('federation', {
      nodes: 2,
      env: { ...GENEROUS_LIMITS, OUTBOUND_ALLOW_CIDRS: '127.0.0.1/32', SECRETS_KEY: secretsKey.toString('base64'), PUBLIC_GATEWAY_URL: proxy.url },
    });
    taps = await Promise.all(cluster.nodes.map((node) => startTap(node.url, tapped)));
    const data = createTempDataDir('federation-api');
    removeApiData = data.remove;
    api = await startApiProcess(adminApiEnv(cluster, { adminSecret, dataDir: data.dir, secretsKey, publicGatewayUrl: proxy.url }));
    browser = await launchBrowser();
    replacements = {
      'https://mcp.github.example/mcp': `${github.url}/mcp`,
      'https://mcp.linear.example/mcp': `${proxy.url}/t/${UPSTREAM_TENANT.slug}/p/tracker/mcp`,
      '/usr/local/bin/node': process.execPath,
      '/opt/mcp/server-everything/dist/index.js': npmBin('@modelcontextprotocol/server-everything'),
    };

    // Not in the doc: "Linear", a second tenant whose tracker installation is the OAuth upstream.
    expect((await admin('POST', '/v1/tenants', platformToken, UPSTREAM_TENANT)).status).toBe(201);
    expect((await admin('PUT', `/v1/tenants/${UPSTREAM_TENANT.slug}/plugins/tracker`, platformToken, { plugin: 'remote-mcp', config: { url: `${tracker.url}/mcp` } })).status).toBe(200);
    const consentKey = (await admin('POST', `/v1/tenants/${UPSTREAM_TENANT.slug}/api-keys`, platformToken, { name: 'consent' })).body;
    upstreamTenantKey = String(consentKey['secret']);
    sharedAtLinear = `key:${String((consentKey['key'] as Record<string, unknown>)['id'])}`;

    const tenant = await step('create-tenant', 201);
    tenantAdminToken = sign({ tenant: tenant['id'] }, `tenant-admin:${String(tenant['id'])}`);
    await step('register-template', 201);
    await step('install-github', 200);
    await step('install-linear', 200);
    await step('install-everything', 200);
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await Promise.all([sse, streamable, modern, ...others].map((client) => client && (client instanceof ModernClient ? client.close() : disconnect(client)).catch(() => undefined)));
    await browser?.close();
    await api?.close();
    removeApiData?.();
    await cluster?.close();
    await proxy?.close();
    await Promise.all(taps.map((tap) => tap.close()));
    await tracker?.close();
    await github?.close();
  });

  /** Whom Linear saw on each tools/call that reached its URL since `mark`, by the title filed. */
  const seenByLinear = (mark: number) => {
    const seen = new Map<string, string | undefined>();
    for (const request of tapped.slice(mark)) {
      if (request.method !== 'POST' || !request.path.startsWith(UPSTREAM_PATH) || !request.body.includes('"tools/call"')) continue;
      const message = JSON.parse(request.body) as { params?: { arguments?: { title?: string } } };
      seen.set(message.params?.arguments?.title ?? '', bearerSubject(request.authorization));
    }
    return seen;
  };

  it('connects the OAuth upstream once for the tenant in the browser, signed in at the upstream tenant\'s consent page', async () => {
    const started = await step('connect-linear', 201);
    const connectUrl = String(started['connectUrl']);
    expect(connectUrl.startsWith(`${proxy.url}/oauth/upstream/connect?ticket=`)).toBe(true);
    const context = await browser.newContext({ javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      await page.goto(connectUrl);
      await page.getByLabel(`API key of ${UPSTREAM_TENANT.name}`).fill(upstreamTenantKey);
      await page.getByRole('button', { name: 'Approve' }).click();
      await page.waitForURL(`${proxy.url}/oauth/upstream/callback**`, { timeout: CONNECT_TIMEOUT_MS });
      expect(await page.textContent('body')).toContain('Upstream connected');
    } finally {
      await context.close();
    }
    expect(await step('connection-status', 200)).toMatchObject({ installation: 'linear', status: 'connected' });
  }, 90_000);

  it('installs the same upstream a second time, per person, with the tool it declares (step 3b)', async () => {
    expect(await step('install-my-linear', 200)).toMatchObject({
      name: 'my-linear',
      config: { auth: 'oauth', oauthMode: 'per-user', declaredTools: [{ name: 'create_issue', description: MY_TICKET_DESCRIPTION }] },
    });
  });

  it('defines the virtual server and issues the keys', async () => {
    expect(await step('create-virtual-server', 201)).toMatchObject({ name: 'team' });
    teamKey = String((await step('issue-team-key', 201))['secret']);
    narrowKey = String((await step('issue-narrow-key', 201))['secret']);
    expect([teamKey, narrowKey].every((key) => key.length > 20)).toBe(true);
  });

  it('gives clients of all three eras, spread over both nodes, exactly the curated tools, and runs each of them', async () => {
    const [first, second] = cluster.nodes;
    // SSE: the session on the first node, its POSTs sent to the second and forwarded. Streamable
    // HTTP: the session on the second node, everything after initialize sent to the first and
    // forwarded. v2 (no session): through the balancer, each request on the next node.
    sse = await connectClient(first!.url, '/t/acme/v/team', teamKey, 'sse', { postOrigin: second!.url });
    streamable = await connectClient(first!.url, '/t/acme/v/team', teamKey, 'streamable-http', { openOn: second!.url });
    modern = await modernClient('/t/acme/v/team/mcp', teamKey);
    expect(modern.getNegotiatedProtocolVersion()).toBe(MODERN);
    const before = new Map(proxy.counts);
    const mark = tapped.length;
    for (const [era, client] of eras()) {
      // The first listing on each node already has the connected upstream's tool (and starts the hosted server there).
      expect({ era, tools: await listed(client) }).toEqual({ era, tools: CURATED });
      expect({ era, whoami: outcome(await client.callTool({ name: 'whoami', arguments: { tag: era } })) }).toEqual({ era, whoami: { isError: false, text: `${era} ran in generation 0` } });
      const filed = outcome(await client.callTool({ name: 'file_ticket', arguments: { title: `from ${era}` } }));
      expect({ era, filed }).toEqual({ era, filed: { isError: false, text: `Created LIN-${tracker.created.length}: from ${era}` } });
      expect({ era, sum: outcome(await client.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } })) }).toEqual({ era, sum: { isError: false, text: 'The sum of 2 and 3 is 5.' } });
      // A key names no person: the per-user tool is listed, but runs with nobody's account.
      const mine = outcome(await client.callTool({ name: 'file_my_ticket', arguments: { title: `${era} with a key` } }));
      expect({ era, isError: mine.isError, personal: /^Installation "my-linear" uses a personal upstream account .*API key, which names no person/.test(mine.text), link: linkIn(mine.text) }).toEqual({
        era,
        isError: true,
        personal: true,
        link: undefined,
      });
    }
    expect(tracker.created).toEqual(eras().map(([era]) => `from ${era}`));
    // Linear saw the shared account file each ticket, and none of the key's calls of the per-user tool.
    expect(seenByLinear(mark)).toEqual(new Map(eras().map(([era]) => [`from ${era}`, sharedAtLinear])));
    // The static header went along to the upstream, and both nodes answered the v2 client.
    expect(github.lastHeaders['x-upstream-key']).toBe('gh-upstream-key-123');
    expect(taps.map((tap) => (proxy.counts.get(tap.url) ?? 0) - (before.get(tap.url) ?? 0) > 0)).toEqual([true, true]);
  }, 120_000);

  // ── Per user (docs/federation.md 3b and 7): two people, each their own Linear account ─────────

  /** A person's part of the consent page (docs/federation.md 7, point 1): their own key of acme; the tokens their client holds. */
  async function signIn(personKey: string, label: string): Promise<MemoryOAuthProvider> {
    const provider = new MemoryOAuthProvider(REDIRECT, `MCP client of ${label}`, `state-${label}`);
    const serverUrl = `${proxy.url}/t/acme/v/team/mcp`;
    expect(await auth(provider, { serverUrl })).toBe('REDIRECT');
    const { callback } = await approveWithKey(provider.authorizationUrl!, personKey);
    expect(await auth(provider, { serverUrl, authorizationCode: callback.searchParams.get('code')! })).toBe('AUTHORIZED');
    return provider;
  }

  /**
   * The person in Chromium (point 3): opens the link, signs in to acme with their key, then (given
   * a Linear identity) goes on to Linear and approves as it. The page's text at the end.
   */
  async function openLink(link: string, personKey: string, linearKey?: string): Promise<string> {
    const context = await browser.newContext({ javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      await page.goto(link);
      await page.getByLabel('API key of Acme').fill(personKey);
      await page.getByRole('button', { name: 'Sign in and continue' }).click();
      if (linearKey !== undefined) {
        await page.getByRole('link', { name: /^Continue to / }).click();
        await page.getByLabel(`API key of ${UPSTREAM_TENANT.name}`).fill(linearKey);
        await page.getByRole('button', { name: 'Approve' }).click();
        await page.waitForURL(`${proxy.url}/oauth/upstream/callback**`, { timeout: CONNECT_TIMEOUT_MS });
      }
      return (await page.textContent('body')) ?? '';
    } finally {
      await context.close();
    }
  }

  it('lets two people each connect their own Linear account once, on different eras and nodes: Linear sees A\'s calls as A and B\'s as B, and B never gets A\'s account', async () => {
    const issued = await step('issue-person-key', 201);
    const alice = { id: String((issued['key'] as Record<string, unknown>)['id']), secret: String(issued['secret']) };
    // Bob's key the same way, under his own name.
    const bobIssued = await admin('POST', '/v1/tenants/acme/api-keys', tenantAdminToken, { name: 'bob' });
    const bob = { id: String((bobIssued.body['key'] as Record<string, unknown>)['id']), secret: String(bobIssued.body['secret']) };
    // Their identities at Linear (keys of the upstream tenant, pasted on its consent page).
    const linearIdentity = async (name: string) => {
      const answer = await admin('POST', `/v1/tenants/${UPSTREAM_TENANT.slug}/api-keys`, platformToken, { name });
      return { sub: `key:${String((answer.body['key'] as Record<string, unknown>)['id'])}`, secret: String(answer.body['secret']) };
    };
    const [aliceAtLinear, bobAtLinear] = [await linearIdentity('alice at linear'), await linearIdentity('bob at linear')];

    // A: an SDK v1 Streamable HTTP session declaring URL-mode elicitation (2025-11-25), its
    // requests spread over both nodes by the balancer. B: a v2 client on 2026-07-28 (no session).
    const aliceClient = new Client({ name: 'alice', version: '1.0.0' }, { capabilities: { elicitation: { url: {} } } });
    await aliceClient.connect(new StreamableHTTPClientTransport(new URL('/t/acme/v/team/mcp', proxy.url), { authProvider: await signIn(alice.secret, 'alice') }));
    others.push(aliceClient);
    const bobClient = await modernClient('/t/acme/v/team/mcp', (await signIn(bob.secret, 'bob')).saved!.access_token);
    others.push(bobClient);
    for (const [who, client] of [['alice', aliceClient], ['bob', bobClient]] as const) expect({ who, tools: await listed(client) }).toEqual({ who, tools: CURATED });

    const mark = tapped.length;
    const createdBefore = tracker.created.length;
    // A's first call: the link, as -32042 with one URL-mode elicitation.
    const elicited = await aliceClient.callTool({ name: 'file_my_ticket', arguments: { title: 'alice first' } }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(elicited).toBeInstanceOf(UrlElicitationRequiredError);
    const [elicitation] = (elicited as UrlElicitationRequiredError).elicitations;
    expect(elicitation).toMatchObject({ mode: 'url', message: expect.stringContaining('installation "my-linear"') });
    const aliceLink = String(elicitation!.url);
    expect(aliceLink.startsWith(`${proxy.url}/oauth/upstream/connect?ticket=`)).toBe(true);
    // Opened with the nodes' SECRETS_KEY: the link names A, whom the gateway authenticated, and nobody else.
    const seals = new ConnectSeals({ current: secretsKey });
    expect(seals.openTicket(ticketOf(aliceLink))).toMatchObject({ subject: `key:${alice.id}` });

    // Attacker: B opens A's link (sent to him in a chat) and signs in as himself: refused.
    expect(await openLink(aliceLink, bob.secret)).toContain('This link is for someone else');
    // A follows her own link and connects her Linear identity.
    expect(await openLink(aliceLink, alice.secret, aliceAtLinear.secret)).toContain('Upstream connected');

    // B's first call, A connected: B's own link in the tool error, never A's account.
    const bobFirst = outcome(await bobClient.callTool({ name: 'file_my_ticket', arguments: { title: 'bob first' } }));
    const bobLink = linkIn(bobFirst.text);
    expect({ isError: bobFirst.isError, link: typeof bobLink }).toEqual({ isError: true, link: 'string' });
    expect(seals.openTicket(ticketOf(bobLink!))).toMatchObject({ subject: `key:${bob.id}` });
    expect(await openLink(bobLink!, bob.secret, bobAtLinear.secret)).toContain('Upstream connected');

    // Interleaved calls of both, through the balancer (so over both nodes).
    const says = ['alice 1', 'bob 1', 'alice 2', 'bob 2', 'alice 3', 'bob 3'];
    const results = await Promise.all(says.map((title) => (title.startsWith('alice') ? aliceClient : bobClient).callTool({ name: 'file_my_ticket', arguments: { title } })));
    expect(results.map((result) => [outcome(result).isError, /^Created LIN-\d+: (.*)$/.exec(outcome(result).text)?.[1]])).toEqual(says.map((title) => [false, title]));
    // Whom Linear saw: A's identity on each of A's calls, B's on each of B's; the first calls never reached it.
    expect(seenByLinear(mark)).toEqual(new Map(says.map((title) => [title, title.startsWith('alice') ? aliceAtLinear.sub : bobAtLinear.sub])));
    expect(tracker.created.slice(createdBefore).sort()).toEqual([...says].sort());

    const people = (await step('people-connections', 200))['items'] as { subject: string; status: string }[];
    expect(people.map(({ subject, status }) => [subject, status]).sort()).toEqual(
      [
        [`key:${alice.id}`, 'connected'],
        [`key:${bob.id}`, 'connected'],
      ].sort(),
    );
  }, 180_000);

  it('does not reach the renamed tool under its old names, nor a hidden tool, at the virtual URL in any era', async () => {
    const createdBefore = tracker.created.length;
    for (const [era, client] of eras()) {
      for (const name of ['create_issue', 'linear__create_issue', 'my-linear__create_issue', 'linear__delete_issue', 'delete_issue', 'github__hold', 'everything__echo', 'echo']) {
        await expect(client.callTool({ name, arguments: { title: era, id: 'LIN-1', tag: era, message: era } }).then(() => `${era}: ${name} answered`)).rejects.toThrow(/Unknown tool/);
      }
    }
    expect(tracker.created).toHaveLength(createdBefore);
  });

  it('keeps a key allowed one tool of the virtual server off its neighbours by the virtual, tenant-wide and per-plugin URLs', async () => {
    const [first, second] = cluster.nodes;
    const createdBefore = tracker.created.length;
    const refused = async (client: AnyClient, name: string, args: Record<string, unknown>) =>
      expect(client.callTool({ name, arguments: args }).then(() => `${name} answered`)).rejects.toThrow(/Unknown tool/);

    const views: { url: string; client: AnyClient; own: string; neighbours: [string, Record<string, unknown>][] }[] = [
      {
        url: 'virtual, v2',
        client: await modernClient('/t/acme/v/team/mcp', narrowKey),
        own: 'whoami',
        neighbours: [['file_ticket', { title: 'x' }], ['file_my_ticket', { title: 'x' }], ['get-sum', { a: 1, b: 1 }]],
      },
      {
        url: 'virtual, SSE',
        client: await v1(first!.url, '/t/acme/v/team', narrowKey, 'sse'),
        own: 'whoami',
        neighbours: [['file_ticket', { title: 'x' }], ['file_my_ticket', { title: 'x' }], ['get-sum', { a: 1, b: 1 }]],
      },
      {
        url: 'tenant-wide',
        client: await v1(second!.url, '/t/acme', narrowKey, 'streamable-http'),
        own: 'github__whoami',
        neighbours: [['linear__create_issue', { title: 'x' }], ['my-linear__create_issue', { title: 'x' }], ['everything__get-sum', { a: 1, b: 1 }], ['github__hold', { tag: 'x' }]],
      },
      { url: 'per-plugin linear', client: await v1(first!.url, '/t/acme/p/linear', narrowKey, 'streamable-http'), own: '', neighbours: [['create_issue', { title: 'x' }]] },
      { url: 'per-plugin everything', client: await v1(second!.url, '/t/acme/p/everything', narrowKey, 'streamable-http'), own: '', neighbours: [['get-sum', { a: 1, b: 1 }]] },
      { url: 'per-plugin github', client: await modernClient('/t/acme/p/github/mcp', narrowKey), own: 'whoami', neighbours: [['hold', { tag: 'x' }]] },
    ];
    others.push(...views.map((view) => view.client));
    for (const { url, client, own, neighbours } of views) {
      expect({ url, tools: await names(client) }).toEqual({ url, tools: own ? [own] : [] });
      if (own) expect({ url, own: outcome(await client.callTool({ name: own, arguments: { tag: url } })).isError }).toEqual({ url, own: false });
      for (const [name, args] of neighbours) await refused(client, name, args);
    }
    // Nothing ran upstream: no issue filed, and `hold` never reached the github server.
    expect(tracker.created).toHaveLength(createdBefore);
    expect(github.executions.filter((run) => run.tool === 'hold')).toEqual([]);
  }, 60_000);

  it('answers the upstream tenant\'s own key at the virtual URL with 404, as for a server that does not exist', async () => {
    for (const node of cluster.nodes) {
      for (const path of ['/t/acme/v/team/mcp', '/t/acme/v/no-such-server/mcp']) {
        const answer = await rawPost(`${node.url}${path}`, upstreamTenantKey, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } });
        await answer.body?.cancel();
        expect({ path, status: answer.status }).toEqual({ path, status: 404 });
      }
    }
  });

  it('recovers from a restart of the static-header upstream mid-run: only the call in flight fails', async () => {
    // The call in flight: a hidden tool, reached with the team key on the tenant-wide URL.
    const tenantWide = await v1(cluster.nodes[0]!.url, '/t/acme', teamKey, 'streamable-http');
    const hold = github.holdNext();
    const pending = tenantWide.callTool({ name: 'github__hold', arguments: { tag: 'in flight' } });
    await hold.ran;
    github.restart();
    hold.release();
    expect(outcome(await pending)).toEqual({ isError: true, text: 'Upstream MCP server error: fetch failed' });
    // Every era's open session on the virtual server: its next calls work, each run once.
    for (const [era, client] of eras()) {
      expect({ era, whoami: outcome(await client.callTool({ name: 'whoami', arguments: { tag: `${era} after` } })) }).toEqual({
        era,
        whoami: { isError: false, text: `${era} after ran in generation 1` },
      });
      expect({ era, tools: await listed(client) }).toEqual({ era, tools: CURATED });
    }
    expect(github.executions.filter((run) => run.generation === 1).map((run) => run.text)).toEqual(eras().map(([era]) => `${era} after ran in generation 1`));
    expect(github.lastHeaders['x-upstream-key']).toBe('gh-upstream-key-123');
  }, 60_000);

  it('ran every request docs/federation.md shows', () => {
    expect(doc.map((request) => request.step).filter((name) => !ran.has(name))).toEqual([]);
    expect(doc.length).toBeGreaterThanOrEqual(10);
    // Each example value the test replaces is still in the doc's bodies (else the doc's request would name it as is).
    const bodies = JSON.stringify(doc.map((request) => request.body));
    expect(Object.keys(replacements).filter((example) => !bodies.includes(JSON.stringify(example)))).toEqual([]);
  });
});
