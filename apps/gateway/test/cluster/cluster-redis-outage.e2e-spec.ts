import { testRedisUrl, startTcpProxy, type TcpProxy } from '@switchboard/testing';
import { Redis } from 'ioredis';
import { GENEROUS_LIMITS, openRawSession, rawPost, sessionHeaders, startCluster, type Cluster, type GatewayProcess } from './cluster-harness';

const TOOLS_LIST = { jsonrpc: '2.0', id: 9, method: 'tools/list' };
/**
 * A cross-node request during an outage must fail at once, not wait for the forward timeout.
 * The timeout is long here, so "at once" is told apart from it however loaded the machine is.
 */
const FORWARD_TIMEOUT_MS = 10_000;

const linkDown = (line: Record<string, unknown>) => line['msg'] === 'cluster link to Redis is down';
const reregistered = (line: Record<string, unknown>) => line['msg'] === 'sessions registered in Redis';

describe('Redis going away under a cluster (cluster mode)', () => {
  let relay: TcpProxy;
  let cluster: Cluster;
  let token: string;
  let node0: GatewayProcess;
  let node1: GatewayProcess;
  const mcpUrl = (node: GatewayProcess) => `${node.url}/t/acme/mcp`;

  beforeAll(async () => {
    // Takes Redis away from this test's own gateways only (others share the Redis server).
    relay = await startTcpProxy(testRedisUrl());
    cluster = await startCluster('outage', { nodes: 2, env: { ...GENEROUS_LIMITS, REDIS_URL: relay.url, FORWARD_TIMEOUT_MS: String(FORWARD_TIMEOUT_MS) } });
    [node0, node1] = cluster.nodes as [GatewayProcess, GatewayProcess];
    const tenant = await cluster.createTenant('acme');
    await cluster.install(tenant.id, 'echo');
    token = (await cluster.issueKey(tenant.id)).token;
  }, 60_000);

  // A failed test must not leave Redis cut for the next one.
  afterEach(() => relay.restore());

  afterAll(async () => {
    await cluster?.close();
    await relay?.close();
  });

  it('keeps same-node sessions working, fails cross-node requests fast with 503, reports degraded, and recovers by itself', async () => {
    const sessionOn0 = await openRawSession(mcpUrl(node0), token);
    await Promise.all([node0, node1].map((node) => node.logLine(reregistered)));

    const down = Promise.all([node0, node1].map((node) => node.nextLogLine(linkDown)));
    await relay.cut();
    await down;

    const sameNode = await rawPost(mcpUrl(node0), token, TOOLS_LIST, sessionHeaders(sessionOn0));
    expect(sameNode.status).toBe(200);
    await sameNode.body?.cancel();

    const started = Date.now();
    const crossNode = await rawPost(mcpUrl(node1), token, TOOLS_LIST, sessionHeaders(sessionOn0));
    expect(crossNode.status).toBe(503);
    expect(((await crossNode.json()) as { error: { code: number } }).error.code).toBe(-32000);
    expect(Date.now() - started).toBeLessThan(FORWARD_TIMEOUT_MS / 2);

    // Still ready (it serves its own sessions), with the degradation named.
    const ready = await fetch(`${node1.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { checks: Record<string, string> }).checks['redis']).toBe('degraded');

    // New sessions open during the outage, on whichever node.
    const openedDuringOutage = await openRawSession(mcpUrl(node1), token);

    const back = Promise.all(
      [node0, node1].flatMap((node) => [node.nextLogLine(reregistered), node.nextLogLine((line) => line['msg'] === 'control bus connected to Redis')]),
    );
    await relay.restore();
    await back;

    const recovered = await rawPost(mcpUrl(node1), token, TOOLS_LIST, sessionHeaders(sessionOn0));
    expect(recovered.status).toBe(200);
    await recovered.body?.cancel();
    expect((await cluster.directory.find(openedDuringOutage))?.node).toBe(node1.nodeId);
    expect(((await (await fetch(`${node1.url}/readyz`)).json()) as { checks: Record<string, string> }).checks['redis']).toBe('ok');
  }, 30_000);

  it("reconnects and re-registers after its Redis connections are killed (CLIENT KILL of this node's connections only)", async () => {
    const sessionOn0 = await openRawSession(mcpUrl(node0), token);
    const admin = new Redis(testRedisUrl());
    try {
      const mine = String(await admin.client('LIST'))
        .split('\n')
        .filter((line) => new RegExp(` name=${node0.nodeId}:`).test(line));
      expect(mine.length).toBeGreaterThanOrEqual(4);
      const back = node0.nextLogLine(reregistered);
      // In one pipeline, so no connection is back before the last one is killed.
      await admin.pipeline(mine.map((line) => ['client', 'KILL', 'ID', /id=(\d+)/.exec(line)![1]!])).exec();
      await back;
      const crossNode = await rawPost(mcpUrl(node1), token, TOOLS_LIST, sessionHeaders(sessionOn0));
      expect(crossNode.status).toBe(200);
      await crossNode.body?.cancel();
      expect((await cluster.directory.find(sessionOn0))?.node).toBe(node0.nodeId);
    } finally {
      admin.disconnect();
    }
  });
});
