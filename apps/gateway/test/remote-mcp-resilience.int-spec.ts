import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ToolListChangedNotificationSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { connectClient, disconnect, eventually, startHarness, type GatewayHarness, type TransportName } from './gateway-harness';
import { RestartableUpstream } from './restartable-upstream';
import { firstText } from '@switchboard/testing';

const MODERN = '2026-07-28';
type Era = TransportName | typeof MODERN;
const ERAS: Era[] = ['streamable-http', 'sse', MODERN];

/** The official v2 SDK client, pinned to the 2026-07-28 wire (no session), recording the list changes it hears. */
async function modernClient(url: string, token: string): Promise<{ client: ModernClient; heard: string[] }> {
  const client = new ModernClient({ name: 'resilience-test', version: '1.0.0' }, { versionNegotiation: { mode: { pin: MODERN } } });
  const heard: string[] = [];
  client.setNotificationHandler('notifications/tools/list_changed', () => void heard.push('tools'));
  await client.connect(new ModernTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return { client, heard };
}

// An upstream made with the official SDK, federated by remote-mcp, restarted under the gateway:
// its sessions are forgotten (404 on their ids), and each client era keeps calling it. Loopback
// is opened for plugins explicitly (OUTBOUND_ALLOW_CIDRS); it is refused by default.
describe.each(['streamable-http', 'sse'] as const)('remote-mcp federating an upstream over %s that restarts', (upstreamTransport) => {
  let h: GatewayHarness;
  let upstream: RestartableUpstream;
  let token: string;
  const slug = `acme-${upstreamTransport}`;
  const clients = new Map<TransportName, Client>();
  let modern: Awaited<ReturnType<typeof modernClient>>;

  beforeAll(async () => {
    upstream = new RestartableUpstream();
    await upstream.start();
    h = await startHarness(`remote_mcp_resilience_${upstreamTransport.replace('-', '_')}`, { OUTBOUND_ALLOW_CIDRS: '127.0.0.1/32' });
    const tenant = await h.createTenant(slug);
    const path = upstreamTransport === 'sse' ? '/sse' : '/mcp';
    await h.install(tenant.id, 'remote-mcp', { url: `${upstream.url}${path}`, transport: upstreamTransport }, { headers: { 'X-Upstream-Key': 'k-resilience' } });
    token = (await h.issueKey(tenant.id)).token;
    for (const transport of ['streamable-http', 'sse'] as const) clients.set(transport, await connectClient(h.gateway.url, `/t/${slug}`, token, transport));
    modern = await modernClient(`${h.gateway.url}/t/${slug}/mcp`, token);
  });
  afterAll(async () => {
    await modern.client.close();
    for (const client of clients.values()) await disconnect(client);
    await h.close();
    await upstream.close();
  });

  /** One call of the upstream's tool, in the given client era; the tool's text, or the error's. */
  async function whoami(era: Era, tag: string): Promise<{ isError: boolean; text: string }> {
    const args = { name: 'remote-mcp__whoami', arguments: { tag } };
    const result = (era === MODERN ? await modern.client.callTool(args) : await clients.get(era)!.callTool(args)) as CallToolResult;
    return { isError: result.isError === true, text: firstText(result) };
  }

  it('sends the configured static headers to the upstream', async () => {
    expect(await whoami('streamable-http', 'headers')).toEqual({ isError: false, text: `headers ran in generation ${upstream.generation}` });
    expect(upstream.lastHeaders['x-upstream-key']).toBe('k-resilience');
  });

  it.each(ERAS)('keeps answering a %s client after the upstream forgot its session, running each call once', async (era) => {
    const before = await whoami(era, `${era}-before`);
    expect(before).toEqual({ isError: false, text: `${era}-before ran in generation ${upstream.generation}` });
    upstream.restart();
    expect(upstream.sessionCount).toBe(0);
    const after = await whoami(era, `${era}-after`);
    expect(after).toEqual({ isError: false, text: `${era}-after ran in generation ${upstream.generation}` });
    // The call that met the forgotten session was sent again, not run twice.
    expect(upstream.executions.filter((run) => run.text.startsWith(`${era}-`)).map((run) => run.text)).toEqual([before.text, after.text]);
  });

  it('reports, and does not repeat, a call the upstream ran but whose answer the restart cut off', async () => {
    const hold = upstream.holdNext();
    const pending = clients.get('streamable-http')!.callTool({ name: 'remote-mcp__hold', arguments: { tag: 'cut-off' } });
    await hold.ran;
    upstream.restart();
    hold.release();
    const result = (await pending) as CallToolResult;
    // At once, not at the upstream timeout. Over Streamable HTTP the POST was cut before its
    // response began; over SSE the POST was accepted and its answer was to come on the stream
    // the restart broke, so the plugin closes the connection rather than wait for it.
    const cutOff = upstreamTransport === 'sse' ? 'MCP error -32000: Connection closed' : 'fetch failed';
    expect({ isError: result.isError, text: firstText(result) }).toEqual({ isError: true, text: `Upstream MCP server error: ${cutOff}` });
    expect(upstream.executions.filter((run) => run.text === 'cut-off')).toHaveLength(1);
    expect(await whoami('sse', 'after-cut-off')).toEqual({ isError: false, text: `after-cut-off ran in generation ${upstream.generation}` });
  });

  it('tells clients of every era when the restarted upstream announces tools/list_changed', async () => {
    upstream.restart();
    // The restarted upstream's new session, opened by this call, is the one that announces.
    expect((await whoami('streamable-http', 'reconnect')).isError).toBe(false);
    const announced = new Map<TransportName, number>();
    for (const [transport, client] of clients) {
      announced.set(transport, 0);
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => void announced.set(transport, announced.get(transport)! + 1));
    }
    const subscription = await modern.client.listen({ toolsListChanged: true });
    try {
      const name = `added_${upstream.generation}`;
      upstream.addTool(name);
      await eventually(() => announced.get('streamable-http')! > 0 && announced.get('sse')! > 0 && modern.heard.includes('tools'));
      await eventually(async () => (await clients.get('sse')!.listTools()).tools.some((tool) => tool.name === `remote-mcp__${name}`));
      expect((await modern.client.listTools()).tools.map((tool) => tool.name)).toContain(`remote-mcp__${name}`);
    } finally {
      await subscription.close();
    }
  });
});

// Many servers built from the official SDK's examples keep a map of transports and answer an id
// missing from it with 400 and a JSON-RPC error about the session, not the spec's 404. remote-mcp
// takes that 400 (on a request that carried a session id, not initialize, its error naming the
// session) for a lost session too: re-initializes once and sends the request again.
describe('remote-mcp federating a Streamable HTTP upstream that answers 400 for a session it forgot (the SDK examples\' way)', () => {
  let h: GatewayHarness;
  let upstream: RestartableUpstream;
  const slug = 'acme-bad-request';
  const clients = new Map<TransportName, Client>();
  let modern: Awaited<ReturnType<typeof modernClient>>;

  beforeAll(async () => {
    upstream = new RestartableUpstream({ unknownSession: 'bad-request' });
    await upstream.start();
    h = await startHarness('remote_mcp_resilience_bad_request', { OUTBOUND_ALLOW_CIDRS: '127.0.0.1/32' });
    const tenant = await h.createTenant(slug);
    await h.install(tenant.id, 'remote-mcp', { url: `${upstream.url}/mcp` });
    const token = (await h.issueKey(tenant.id)).token;
    for (const transport of ['streamable-http', 'sse'] as const) clients.set(transport, await connectClient(h.gateway.url, `/t/${slug}`, token, transport));
    modern = await modernClient(`${h.gateway.url}/t/${slug}/mcp`, token);
  });
  afterAll(async () => {
    await modern?.client.close();
    for (const client of clients.values()) await disconnect(client);
    await h?.close();
    await upstream?.close();
  });

  async function whoami(era: Era, tag: string): Promise<{ isError: boolean; text: string }> {
    const args = { name: 'remote-mcp__whoami', arguments: { tag } };
    const result = (era === MODERN ? await modern.client.callTool(args) : await clients.get(era)!.callTool(args)) as CallToolResult;
    return { isError: result.isError === true, text: firstText(result) };
  }

  it.each(ERAS)('keeps answering a %s client after the upstream restarted and answered 400 for the old session, running each call once', async (era) => {
    const before = await whoami(era, `400-${era}-before`);
    expect(before).toEqual({ isError: false, text: `400-${era}-before ran in generation ${upstream.generation}` });
    const refusalsBefore = upstream.sessionRefusals.length;
    upstream.restart();
    const after = await whoami(era, `400-${era}-after`);
    expect(after).toEqual({ isError: false, text: `400-${era}-after ran in generation ${upstream.generation}` });
    // The old session's POST was refused with 400 (never 404), and sent again on a new session: run once.
    expect(upstream.sessionRefusals.slice(refusalsBefore).filter((refusal) => refusal.method === 'POST')).toEqual([{ method: 'POST', status: 400 }]);
    expect(upstream.executions.filter((run) => run.text.startsWith(`400-${era}-`)).map((run) => run.text)).toEqual([before.text, after.text]);
  });

  it('fails only the call in flight at the restart, and every era\'s next call works', async () => {
    const hold = upstream.holdNext();
    const pending = clients.get('streamable-http')!.callTool({ name: 'remote-mcp__hold', arguments: { tag: '400-in-flight' } });
    await hold.ran;
    upstream.restart();
    hold.release();
    const result = (await pending) as CallToolResult;
    expect({ isError: result.isError, text: firstText(result) }).toEqual({ isError: true, text: 'Upstream MCP server error: fetch failed' });
    expect(upstream.executions.filter((run) => run.text === '400-in-flight')).toHaveLength(1);
    for (const era of ERAS) expect({ era, ...(await whoami(era, `400-${era}-next`)) }).toEqual({ era, isError: false, text: `400-${era}-next ran in generation ${upstream.generation}` });
    expect(upstream.sessionRefusals.every((refusal) => refusal.status === 400)).toBe(true);
  });
});
