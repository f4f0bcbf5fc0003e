import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { connectClient, disconnect, eventually, startHarness, type GatewayHarness } from './gateway-harness';
import { npmBin, processExists } from './hosted-fixtures';
import { modernAnswer, modernRequest } from './modern-request';
import { firstText } from '@switchboard/testing';

// Real MCP servers from the npm registry, run by the gateway as child processes of its own.
const EVERYTHING = { command: process.execPath, args: [npmBin('@modelcontextprotocol/server-everything'), 'stdio'] };
const MEMORY = { command: process.execPath, args: [npmBin('@modelcontextprotocol/server-memory')] };


async function createTemplate(h: GatewayHarness, name: string, server: { command: string; args: string[] }, env: object[], defaultMode: 'isolated' | 'shared') {
  await h.prisma.serverTemplate.create({ data: { name, description: name, ...server, env: env as never, defaultMode } });
}


/** Sum of a series' samples on the gateway's metrics page that carry all of `labels` (any order). */
async function metric(h: GatewayHarness, name: string, labels: string[]): Promise<number> {
  const page = await (await fetch(h.gateway.metricsUrl!)).text();
  return page
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) && labels.every((label) => line.includes(label)))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

describe('hosted stdio MCP servers', () => {
  let h: GatewayHarness;
  let a: { id: string; slug: string };
  let b: { id: string; slug: string };
  let tokenA: string;
  let tokenB: string;
  const seenPids = new Set<number>();
  const clients: Client[] = [];
  const connect = async (slug: string, token: string) => {
    const client = await connectClient(h.gateway.url, `/t/${slug}`, token, 'streamable-http');
    clients.push(client);
    return client;
  };
  const record = () => h.gateway.hostedServers().forEach((s) => seenPids.add(s.pid));

  beforeAll(async () => {
    h = await startHarness('hosted', { HOSTED_MAX_PER_TENANT: '4' });
    await createTemplate(h, 'everything', EVERYTHING, [{ name: 'API_TOKEN', secret: true, required: true }, { name: 'REGION' }], 'shared');
    await createTemplate(h, 'memory', MEMORY, [{ name: 'MEMORY_FILE_PATH', value: '{home}/memory.jsonl' }], 'isolated');
    a = await h.createTenant('alpha');
    b = await h.createTenant('bravo');
    for (const [tenant, token, region] of [[a, 'token-of-alpha-123', 'eu'], [b, 'token-of-bravo-456', 'us']] as const) {
      await h.install(tenant.id, 'everything', { REGION: region }, { API_TOKEN: token });
      await h.install(tenant.id, 'memory', {});
    }
    tokenA = (await h.issueKey(a.id)).token;
    tokenB = (await h.issueKey(b.id)).token;
  });

  afterAll(async () => {
    for (const client of clients) await disconnect(client).catch(() => undefined);
    record();
    await h.close();
    // No orphans and no zombies: every child the gateway ever ran is gone once it closed.
    expect([...seenPids].filter(processExists)).toEqual([]);
  });

  it('lists the servers\' tools namespaced by template', async () => {
    const client = await connect('alpha', tokenA);
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['everything__echo', 'everything__get-env', 'memory__create_entities', 'memory__read_graph']));
  });

  it('forwards the server\'s prompts (namespaced) and resources (its own URIs, templates included)', async () => {
    const client = await connect('alpha', tokenA);
    expect((await client.listPrompts()).prompts.map((p) => p.name)).toEqual(expect.arrayContaining(['everything__simple-prompt', 'everything__args-prompt']));
    const prompt = await client.getPrompt({ name: 'everything__args-prompt', arguments: { city: 'Utrecht' } });
    expect(JSON.stringify(prompt.messages)).toContain('Utrecht');
    const templates = (await client.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate);
    expect(templates).toContain('demo://resource/dynamic/text/{resourceId}');
    const read = await client.readResource({ uri: 'demo://resource/dynamic/text/7' });
    expect(read.contents[0]).toMatchObject({ uri: 'demo://resource/dynamic/text/7', text: expect.any(String) });
  });

  it('gives each tenant\'s server only its own declared variables and the platform\'s minimal base', async () => {
    const envOf = async (slug: string, token: string) => JSON.parse(firstText(await (await connect(slug, token)).callTool({ name: 'everything__get-env', arguments: {} })));
    const envA = await envOf('alpha', tokenA);
    const envB = await envOf('bravo', tokenB);
    expect(envA).toMatchObject({ API_TOKEN: 'token-of-alpha-123', REGION: 'eu', PATH: '/usr/local/bin:/usr/bin:/bin' });
    expect(envB).toMatchObject({ API_TOKEN: 'token-of-bravo-456', REGION: 'us' });
    expect(envA.HOME).toContain(`/hosted/${a.id}/everything`);
    expect(JSON.stringify(envA)).not.toContain('bravo');
    // Nothing of the gateway's own environment (its database URL, keys) reaches a child.
    expect(Object.keys(envA).filter((k) => !['API_TOKEN', 'REGION', 'HOME', 'TMPDIR', 'PATH', 'LANG'].includes(k))).toEqual([]);
    record();
  });

  it('keeps each tenant\'s memory server data apart, and a tenant\'s data across its sessions', async () => {
    const sessionA1 = await connect('alpha', tokenA);
    await sessionA1.callTool({ name: 'memory__create_entities', arguments: { entities: [{ name: 'alpha-plan', entityType: 'secret', observations: ['launch on friday'] }] } });
    const fromB = firstText(await (await connect('bravo', tokenB)).callTool({ name: 'memory__read_graph', arguments: {} }));
    expect(fromB).not.toContain('alpha-plan');
    const fromA2 = firstText(await (await connect('alpha', tokenA)).callTool({ name: 'memory__read_graph', arguments: {} }));
    expect(fromA2).toContain('launch on friday');
    // Isolated mode: the two sessions of alpha ran two memory servers.
    expect(h.gateway.hostedServers().filter((s) => s.tenantId === a.id && s.template === 'memory').length).toBeGreaterThanOrEqual(2);
    record();
  });

  it('never crosses a response between concurrent sessions of two tenants on shared servers', async () => {
    const sessions = [await connect('alpha', tokenA), await connect('alpha', tokenA), await connect('bravo', tokenB), await connect('bravo', tokenB)];
    const calls = sessions.flatMap((client, s) =>
      Array.from({ length: 15 }, (_, i) => {
        const message = `session-${s}-call-${i}`;
        return client.callTool({ name: 'everything__echo', arguments: { message } }).then((result) => [message, firstText(result)]);
      }),
    );
    for (const [sent, received] of await Promise.all(calls)) expect(received).toBe(`Echo: ${sent}`);
    const shared = h.gateway.hostedServers().filter((s) => s.template === 'everything');
    // One shared server per tenant, not one per session, and not one for both tenants.
    expect(shared.map((s) => s.tenantId).sort()).toEqual([a.id, b.id].sort());
    record();
  });

  it('answers a call whose server is killed midway with an error result, and restarts the server', async () => {
    const client = await connect('alpha', tokenA);
    const victim = h.gateway.hostedServers().find((s) => s.tenantId === a.id && s.template === 'everything')!;
    const [crashesBefore, startsBefore] = [
      await metric(h, 'switchboard_gateway_hosted_server_crashes_total', ['template="everything"']),
      await metric(h, 'switchboard_gateway_hosted_server_starts_total', ['template="everything"']),
    ];
    let killed = false;
    const result = await client.callTool({ name: 'everything__trigger-long-running-operation', arguments: { duration: 10, steps: 10 } }, undefined, {
      // The first progress notification proves the call is running in the child: kill it then.
      onprogress: () => {
        if (!killed) process.kill(victim.pid, 'SIGKILL');
        killed = true;
      },
    });
    expect(result).toMatchObject({ isError: true, content: [{ type: 'text', text: expect.stringMatching(/stopped during the call/) }] });
    const again = await client.callTool({ name: 'everything__echo', arguments: { message: 'back' } });
    expect(firstText(again)).toBe('Echo: back');
    const restarted = h.gateway.hostedServers().find((s) => s.tenantId === a.id && s.template === 'everything')!;
    expect(restarted.pid).not.toBe(victim.pid);
    // The crash and the restart's start-up are on the metrics page.
    expect(await metric(h, 'switchboard_gateway_hosted_server_crashes_total', ['template="everything"'])).toBe(crashesBefore + 1);
    expect(await metric(h, 'switchboard_gateway_hosted_server_starts_total', ['template="everything"'])).toBe(startsBefore + 1);
    expect(await metric(h, 'switchboard_gateway_hosted_server_start_duration_seconds_count', ['template="everything"'])).toBeGreaterThanOrEqual(startsBefore + 1);
    // The other tenant's shared server was not affected.
    expect(firstText(await (await connect('bravo', tokenB)).callTool({ name: 'everything__echo', arguments: { message: 'unaffected' } }))).toBe('Echo: unaffected');
    record();
  });

  it('stops a session\'s isolated server when the session ends', async () => {
    const client = await connect('bravo', tokenB);
    await client.callTool({ name: 'memory__read_graph', arguments: {} });
    const before = new Set(h.gateway.hostedServers().filter((s) => s.template === 'memory').map((s) => s.pid));
    await disconnect(client);
    await eventually(() => h.gateway.hostedServers().filter((s) => s.template === 'memory').length === before.size - 1);
    const gone = [...before].filter((pid) => !h.gateway.hostedServers().some((s) => s.pid === pid));
    await eventually(() => gone.every((pid) => !processExists(pid)));
  });

  it('keeps an isolated server per principal on the stateless 2026-07-28 wire, not one per request', async () => {
    const charlie = await h.createTenant('charlie');
    await h.install(charlie.id, 'memory', {});
    const [first, second] = [(await h.issueKey(charlie.id)).token, (await h.issueKey(charlie.id)).token];
    const modernCall = async (token: string) => {
      const answer = await modernAnswer(await modernRequest(h.gateway.url, '/t/charlie/mcp', token, 'tools/call', { name: 'memory__read_graph', arguments: {} }));
      expect(answer.result?.['resultType']).toBe('complete');
    };
    const charlieServers = () => h.gateway.hostedServers().filter((s) => s.tenantId === charlie.id);
    await modernCall(first);
    await modernCall(first);
    record();
    // Both requests of one key used one server, still running after its requests were answered.
    expect(charlieServers()).toEqual([expect.objectContaining({ template: 'memory', mode: 'isolated', sessionId: expect.stringMatching(/^principal-/) })]);
    await modernCall(second);
    record();
    // Another key of the same tenant is another principal: a server of its own.
    expect(new Set(charlieServers().map((s) => s.pid)).size).toBe(2);
  });
});

describe('hosted server governance', () => {
  let h: GatewayHarness;
  let token: string;
  const seenPids = new Set<number>();

  beforeAll(async () => {
    h = await startHarness('hosted_caps', { HOSTED_MAX_PER_TENANT: '1', HOSTED_MAX_PER_NODE: '2', HOSTED_IDLE_TIMEOUT_MS: '400' });
    await createTemplate(h, 'memory', MEMORY, [{ name: 'MEMORY_FILE_PATH', value: '{home}/memory.jsonl' }], 'isolated');
    const tenant = await h.createTenant('capped');
    await h.install(tenant.id, 'memory', {});
    token = (await h.issueKey(tenant.id)).token;
  });
  afterAll(async () => {
    await h.close();
    expect([...seenPids].filter(processExists)).toEqual([]);
  });

  it('refuses a server over the tenant cap with an error result, and serves again once one stops', async () => {
    const first = await connectClient(h.gateway.url, '/t/capped', token, 'streamable-http');
    const second = await connectClient(h.gateway.url, '/t/capped', token, 'streamable-http');
    try {
      expect((await first.callTool({ name: 'memory__read_graph', arguments: {} })).isError).toBeFalsy();
      h.gateway.hostedServers().forEach((s) => seenPids.add(s.pid));
      const refused = await second.callTool({ name: 'memory__read_graph', arguments: {} });
      expect(refused).toMatchObject({ isError: true, content: [{ text: expect.stringMatching(/capacity reached \(1 per tenant\)/) }] });
      expect(await metric(h, 'switchboard_gateway_hosted_server_refusals_total', ['template="memory"', 'limit="tenant"'])).toBe(1);
      await disconnect(first);
      await eventually(() => h.gateway.hostedServers().length === 0);
      expect((await second.callTool({ name: 'memory__read_graph', arguments: {} })).isError).toBeFalsy();
      h.gateway.hostedServers().forEach((s) => seenPids.add(s.pid));
    } finally {
      await disconnect(second);
    }
  });

  it('stops a server that stays idle, and starts it again on the next call', async () => {
    const client = await connectClient(h.gateway.url, '/t/capped', token, 'streamable-http');
    try {
      // Read before the call: the idle timeout is short enough to reap the server during a slow read.
      const reapsBefore = await metric(h, 'switchboard_gateway_hosted_server_reaps_total', ['template="memory"']);
      await client.callTool({ name: 'memory__read_graph', arguments: {} });
      const [server] = h.gateway.hostedServers();
      seenPids.add(server.pid);
      await eventually(() => !processExists(server.pid), 5_000);
      expect(h.gateway.hostedServers()).toEqual([]);
      expect(await metric(h, 'switchboard_gateway_hosted_server_reaps_total', ['template="memory"'])).toBe(reapsBefore + 1);
      expect((await client.callTool({ name: 'memory__read_graph', arguments: {} })).isError).toBeFalsy();
      h.gateway.hostedServers().forEach((s) => seenPids.add(s.pid));
    } finally {
      await disconnect(client);
    }
  });
});
