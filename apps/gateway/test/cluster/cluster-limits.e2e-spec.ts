import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { JSON_RPC_LIMIT_EXCEEDED } from '../../src/protocol/jsonrpc-errors';
import { connectClient, disconnect, eventually, rawPost, startCluster, type Cluster } from './cluster-harness';

const NODES = 3;
const REQUESTS_PER_MINUTE = 30;
const TOOL_CALLS_PER_MINUTE = 10;

const initialize = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'cluster-limits', version: '1.0.0' } },
};

/** The metrics page of one node, found through its start-up log line. */
async function metricsPage(node: Cluster['nodes'][number]): Promise<string> {
  const listening = await node.logLine((line) => line['msg'] === 'gateway listening');
  return (await fetch(String(listening['metricsUrl']))).text();
}

/** The sum of the samples starting with `series` (name and leading labels) on one page. */
function sumOf(page: string, series: string): number {
  let total = 0;
  for (const line of page.split('\n')) if (line.startsWith(series)) total += Number(line.split(' ').pop());
  return total;
}

/** The sum over nodes of one series on their metrics pages. */
async function sumOverNodes(cluster: Cluster, series: string): Promise<number> {
  let total = 0;
  for (const node of cluster.nodes) total += sumOf(await metricsPage(node), series);
  return total;
}

// Three real gateway processes sharing one Redis: a tenant's limits are one budget for all of
// them, not one per process. Each request initializes its own session on the node it reaches,
// so no request depends on cross-node routing and every admitted one is counted exactly once.
describe('limits and metrics of three gateway processes sharing one Redis', () => {
  jest.setTimeout(90_000);
  let cluster: Cluster;
  const clients: Client[] = [];

  beforeAll(async () => {
    cluster = await startCluster('limits', {
      nodes: NODES,
      env: {
        GATEWAY_METRICS_PORT: '0',
        LIMIT_CONCURRENT_SESSIONS: 'unlimited',
        // Leased window blocks (the default, named here): nodes admit from their own blocks and still share one exact budget.
        LIMITS_LEASES: 'true',
        // A check stalled past 500 ms on a loaded test machine fails open and admits one more than the limit.
        LIMITS_COMMAND_TIMEOUT_MS: '5000',
      },
    });
  });
  afterAll(async () => {
    await Promise.all(clients.splice(0).map((c) => disconnect(c)));
    await cluster?.close();
  });

  const tenantWithLimits = async (slug: string, limits: Record<string, number>) => {
    const tenant = await cluster.createTenant(slug);
    await cluster.prisma.tenant.update({ where: { id: tenant.id }, data: { limits } });
    await cluster.install(tenant.id, 'testkit');
    return { ...tenant, token: (await cluster.issueKey(tenant.id)).token };
  };

  it('admits exactly the tenant’s requests per minute across all nodes and refuses the rest with 429', async () => {
    const { token } = await tenantWithLimits('rpm', { requestsPerMinute: REQUESTS_PER_MINUTE });
    const perNode = 15;
    // All at once, interleaved over the nodes: 45 requests race for 30 slots.
    const statuses = await Promise.all(
      Array.from({ length: perNode * NODES }, async (_, i) => {
        const response = await rawPost(`${cluster.nodes[i % NODES]!.url}/t/rpm/mcp`, token, initialize);
        await response.text();
        return { status: response.status, response };
      }),
    );
    const admitted = statuses.filter((s) => s.status === 200);
    const refused = statuses.filter((s) => s.status === 429);
    expect(admitted).toHaveLength(REQUESTS_PER_MINUTE);
    expect(refused).toHaveLength(perNode * NODES - REQUESTS_PER_MINUTE);
    const headers = refused[0]!.response.headers;
    expect(headers.get('ratelimit-policy')).toBe(`"tenant-requestsPerMinute";q=${REQUESTS_PER_MINUTE};w=60`);
    expect(headers.get('ratelimit')).toMatch(/^"tenant-requestsPerMinute";r=0;t=\d+$/);
    expect(Number(headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    expect(await sumOverNodes(cluster, 'switchboard_gateway_rate_limit_rejections_total{scope="tenant",limit="requestsPerMinute"')).toBe(refused.length);
  });

  it('admits exactly the limit when one node’s traffic stops and another node takes all of it, one request at a time', async () => {
    const { token } = await tenantWithLimits('rpm-moves', { requestsPerMinute: REQUESTS_PER_MINUTE });
    const post = async (node: number) => {
      const response = await rawPost(`${cluster.nodes[node]!.url}/t/rpm-moves/mcp`, token, initialize);
      await response.text();
      return response.status;
    };
    // Node 0 leases a block for its first request, then gets nothing more: node 1 must still get the rest.
    const statuses = [await post(0)];
    for (let i = 0; i < REQUESTS_PER_MINUTE + 10; i++) statuses.push(await post(1));
    expect(statuses.filter((s) => s === 200)).toHaveLength(REQUESTS_PER_MINUTE);
    expect(statuses.slice(0, REQUESTS_PER_MINUTE).every((s) => s === 200)).toBe(true);
    expect(await post(2)).toBe(429);
  });

  it('shares the tool-call budget too: sessions on different nodes together get exactly the tenant’s tool calls per minute', async () => {
    const { token } = await tenantWithLimits('tpm', { toolCallsPerMinute: TOOL_CALLS_PER_MINUTE });
    const sessions = await Promise.all(cluster.nodes.map((node) => connectClient(node.url, '/t/tpm', token, 'streamable-http')));
    clients.push(...sessions);
    const callsPerSession = 6;
    const outcomes = await Promise.all(
      sessions.flatMap((client) =>
        Array.from({ length: callsPerSession }, () =>
          client.callTool({ name: 'testkit__whoami', arguments: {} }).then(
            () => 'ok',
            (error: unknown) => (error instanceof McpError && error.code === JSON_RPC_LIMIT_EXCEEDED ? 'refused' : String(error)),
          ),
        ),
      ),
    );
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(TOOL_CALLS_PER_MINUTE);
    expect(outcomes.filter((o) => o === 'refused')).toHaveLength(callsPerSession * NODES - TOOL_CALLS_PER_MINUTE);
  });

  it('caps a tenant’s concurrent sessions across nodes, and a session ended on one node frees the slot for another', async () => {
    const { token } = await tenantWithLimits('capped', { concurrentSessions: 2 });
    const first = await connectClient(cluster.nodes[0]!.url, '/t/capped', token, 'streamable-http');
    const second = await connectClient(cluster.nodes[1]!.url, '/t/capped', token, 'sse');
    clients.push(second);
    const third = await rawPost(`${cluster.nodes[2]!.url}/t/capped/mcp`, token, initialize);
    await third.text();
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBe('1');

    await disconnect(first);
    // The slot is free once node 0 released its lease; nothing else to await from out here.
    let status = 429;
    await eventually(async () => {
      const retry = await rawPost(`${cluster.nodes[2]!.url}/t/capped/mcp`, token, initialize);
      await retry.text();
      status = retry.status;
      return status !== 429;
    });
    expect(status).toBe(200);
  });

  it('counts messages forwarded to the owner node as route="forwarded" on the node that received them, and reports Redis connections up', async () => {
    const tenant = await cluster.createTenant('fwd');
    await cluster.install(tenant.id, 'testkit');
    const { token } = await cluster.issueKey(tenant.id);
    const [owner, receiver] = [cluster.nodes[0]!, cluster.nodes[1]!];
    const whoami = 'switchboard_gateway_tool_calls_total{plugin="testkit",tool="whoami",outcome="ok"';
    const [ownerCallsBefore, receiverCallsBefore] = [sumOf(await metricsPage(owner), whoami), sumOf(await metricsPage(receiver), whoami)];
    // Only this test's tenant: earlier tests' lines may still arrive (logs are written in batches).
    const postLines = () => receiver.logs.filter((l) => l['msg'] === 'request' && l['method'] === 'POST' && String(l['path']).startsWith('/t/fwd/')).length;
    const postsBefore = postLines();
    // Legacy SSE whose POSTs all reach another node than the stream's: every one is forwarded.
    const client = await connectClient(owner.url, '/t/fwd', token, 'sse', { postOrigin: receiver.url });
    clients.push(client);
    await client.callTool({ name: 'testkit__whoami', arguments: {} });
    // initialize, notifications/initialized, tools/call; the last one's log line may still be in the pipe.
    const posts = 3;
    await eventually(() => postLines() - postsBefore === posts);

    const page = await metricsPage(receiver);
    expect(sumOf(page, 'switchboard_gateway_messages_total{route="forwarded",outcome="ok"')).toBe(posts);
    expect(sumOf(page, 'switchboard_gateway_forward_duration_seconds_count')).toBe(posts);
    for (const connection of ['limits', 'sessions', 'control-bus']) {
      expect(sumOf(page, `switchboard_redis_connection_up{connection="${connection}"`)).toBe(1);
    }
    // The tool ran on the owner: counted there, once, and not on the node that forwarded it.
    expect(sumOf(await metricsPage(owner), whoami)).toBe(ownerCallsBefore + 1);
    expect(sumOf(page, whoami)).toBe(receiverCallsBefore);
  });
});
