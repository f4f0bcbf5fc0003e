import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { connectClient, disconnect, startHarness, type GatewayHarness, type TransportName } from './gateway-harness';
import { npmBin } from './hosted-fixtures';
import { modernAnswer, modernRequest } from './modern-request';
import { firstText } from '@switchboard/testing';


// Named installations (issue 18): tenant "front" federates two upstreams with one plugin,
// remote-mcp installed as `github` and as `linear` (each another tenant's plugin URL on this
// gateway, with that tenant's key), and the testkit plugin twice, as `testkit` (its default name)
// and as `kit-b` with its own config and secret. Every URL and era sees each as its own namespace.
describe('named installations: one plugin installed several times by one tenant', () => {
  let h: GatewayHarness;
  let front: { id: string };
  let token: string;
  const clients: Client[] = [];

  beforeAll(async () => {
    h = await startHarness('named_installs', { OUTBOUND_ALLOW_CIDRS: '127.0.0.1/32' });
    const gh = await h.createTenant('gh');
    await h.install(gh.id, 'echo');
    const lin = await h.createTenant('lin');
    await h.install(lin.id, 'testkit', { greeting: 'from linear' });
    front = await h.createTenant('front');
    await h.install(front.id, 'remote-mcp', { url: `${h.gateway.url}/t/gh/p/echo/mcp` }, { bearerToken: (await h.issueKey(gh.id)).token }, 'github');
    await h.install(front.id, 'remote-mcp', { url: `${h.gateway.url}/t/lin/p/testkit/mcp` }, { bearerToken: (await h.issueKey(lin.id)).token }, 'linear');
    await h.install(front.id, 'testkit');
    await h.install(front.id, 'testkit', { greeting: 'hoi' }, { token: 'kit-b-secret' }, 'kit-b');
    // A hosted stdio server (a real npm MCP server) installed twice: a work and a home memory.
    const memory = { command: process.execPath, args: [npmBin('@modelcontextprotocol/server-memory')] };
    await h.prisma.serverTemplate.create({ data: { name: 'memory', description: 'memory', ...memory, env: [{ name: 'MEMORY_FILE_PATH', value: '{home}/memory.jsonl' }], defaultMode: 'isolated' } });
    await h.install(front.id, 'memory', {}, undefined, 'memory-work');
    await h.install(front.id, 'memory', {}, undefined, 'memory-home');
    token = (await h.issueKey(front.id)).token;
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => disconnect(c)));
  });
  afterAll(async () => {
    await h.close();
  });

  async function client(path: string, transport: TransportName, as = token): Promise<Client> {
    const c = await connectClient(h.gateway.url, path, as, transport);
    clients.push(c);
    return c;
  }
  const names = async (c: Client) => (await c.listTools()).tools.map((t) => t.name).sort();

  it.each<TransportName>(['streamable-http', 'sse'])('names each installation its own namespace on the tenant-wide URL (%s)', async (transport) => {
    const c = await client('/t/front', transport);
    const listed = await names(c);
    expect(listed).toEqual(expect.arrayContaining(['github__echo', 'linear__whoami', 'testkit__whoami', 'kit-b__whoami']));
    expect(listed.some((name) => name.startsWith('remote-mcp__'))).toBe(false);
    expect(firstText(await c.callTool({ name: 'github__echo', arguments: { text: 'to github' } }))).toBe('to github');
    expect(firstText(await c.callTool({ name: 'linear__whoami', arguments: {} }))).toBe('lin from linear -');
  });

  it('gives each installation its own config and secrets', async () => {
    const c = await client('/t/front', 'streamable-http');
    expect(firstText(await c.callTool({ name: 'testkit__whoami', arguments: {} }))).toBe('front hello -');
    expect(firstText(await c.callTool({ name: 'kit-b__whoami', arguments: {} }))).toBe('front hoi kit-b-secret');
  });

  it.each<TransportName>(['streamable-http', 'sse'])("serves each installation on its own URL with the plugin's own names (%s)", async (transport) => {
    const github = await client('/t/front/p/github', transport);
    expect(await names(github)).toEqual(['echo']);
    expect(firstText(await github.callTool({ name: 'echo', arguments: { text: 'direct' } }))).toBe('direct');
    const kitB = await client('/t/front/p/kit-b', transport);
    expect(firstText(await kitB.callTool({ name: 'whoami', arguments: {} }))).toBe('front hoi kit-b-secret');
    // The plugin's name is not a URL of these installations: not found, as any URL the tenant lacks.
    await expect(client('/t/front/p/remote-mcp', transport)).rejects.toThrow(/404|Not Found/);
  });

  it('answers the 2026-07-28 wire on the tenant-wide and installation URLs alike', async () => {
    const listed = await modernAnswer(await modernRequest(h.gateway.url, '/t/front/p/linear/mcp', token, 'tools/list'));
    expect(listed.result?.['tools'].map((t: { name: string }) => t.name)).toContain('whoami');
    const called = await modernAnswer(await modernRequest(h.gateway.url, '/t/front/mcp', token, 'tools/call', { name: 'kit-b__whoami', arguments: {} }));
    expect(called.result?.['content'][0].text).toBe('front hoi kit-b-secret');
  });

  it("limits a key to the installations it names: another installation of the same plugin is another plugin", async () => {
    const githubOnly = (await h.issueKey(front.id, { plugins: ['github'] })).token;
    expect((await names(await client('/t/front', 'streamable-http', githubOnly))).filter((n) => !n.startsWith('github__'))).toEqual([]);
    const refused = await fetch(`${h.gateway.url}/t/front/p/linear/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${githubOnly}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
    });
    expect(refused.status).toBe(403);
    const wire = await modernAnswer(await modernRequest(h.gateway.url, '/t/front/mcp', githubOnly, 'tools/call', { name: 'linear__whoami', arguments: {} }));
    expect(wire.error?.message).toMatch(/Unknown tool/);
  });

  it('runs a hosted server template installed twice as two servers with their own files', async () => {
    const work = await client('/t/front', 'streamable-http');
    await work.callTool({ name: 'memory-work__create_entities', arguments: { entities: [{ name: 'work-plan', entityType: 'plan', observations: ['ship it'] }] } });
    const home = await client('/t/front/p/memory-home', 'streamable-http');
    expect(firstText(await home.callTool({ name: 'read_graph', arguments: {} }))).not.toContain('work-plan');
    // The work installation's file outlives its session (isolated mode: a new child per session).
    const workAgain = await client('/t/front/p/memory-work', 'sse');
    expect(firstText(await workAgain.callTool({ name: 'read_graph', arguments: {} }))).toContain('work-plan');
  });

  it('keeps one server per installation when a session uses a template installed twice', async () => {
    const starts = async () => {
      const page = await (await fetch(h.gateway.metricsUrl!)).text();
      return [...page.matchAll(/^switchboard_gateway_hosted_server_starts_total\{[^}]*template="memory"[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
    };
    const before = await starts();
    const c = await client('/t/front', 'streamable-http');
    // Alternating between the two: each call must find its own installation's child still running.
    for (const name of ['memory-work', 'memory-home', 'memory-work', 'memory-home']) await c.callTool({ name: `${name}__read_graph`, arguments: {} });
    expect((await starts()) - before).toBe(2);
  });

  it('hides a disabled installation and keeps its siblings', async () => {
    await h.prisma.pluginInstallation.update({ where: { tenantId_name: { tenantId: front.id, name: 'kit-b' } }, data: { enabled: false } });
    await h.bus.publish({ type: 'plugins.changed', tenantId: front.id });
    try {
      const listed = await names(await client('/t/front', 'streamable-http'));
      expect(listed).toContain('testkit__whoami');
      expect(listed.some((name) => name.startsWith('kit-b__'))).toBe(false);
    } finally {
      await h.prisma.pluginInstallation.update({ where: { tenantId_name: { tenantId: front.id, name: 'kit-b' } }, data: { enabled: true } });
      await h.bus.publish({ type: 'plugins.changed', tenantId: front.id });
    }
  });
});
