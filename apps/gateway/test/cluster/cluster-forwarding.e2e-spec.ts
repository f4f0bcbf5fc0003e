import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { firstText, testRedisUrl } from '@switchboard/testing';
import { Redis } from 'ioredis';
import {
  connectClient,
  disconnect,
  eventually,
  GENEROUS_LIMITS,
  openRawSession,
  rawPost,
  sessionHeaders,
  startCluster,
  startRoundRobinProxy,
  type Cluster,
  type RoundRobinProxy,
  type TransportName,
} from './cluster-harness';

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

describe('two gateway nodes behind a round-robin balancer (cluster mode)', () => {
  let cluster: Cluster;
  let proxy: RoundRobinProxy;
  let token: string;
  let otherToken: string;
  let tenantId: string;

  beforeAll(async () => {
    cluster = await startCluster('fwd', { nodes: 2, env: GENEROUS_LIMITS });
    const tenant = await cluster.createTenant('acme');
    tenantId = tenant.id;
    await cluster.install(tenant.id, 'echo');
    await cluster.install(tenant.id, 'testkit');
    token = (await cluster.issueKey(tenant.id)).token;
    otherToken = (await cluster.issueKey(tenant.id)).token;
    proxy = await startRoundRobinProxy(() => cluster.nodes.map((node) => node.url));
  }, 60_000);

  afterAll(async () => {
    await proxy?.close();
    await cluster?.close();
  });

  it('serves a legacy SSE session whose POSTs all land on the other node', async () => {
    const [streamNode, postNode] = cluster.nodes;
    const client = await connectClient(streamNode!.url, '/t/acme', token, 'sse', { postOrigin: postNode!.url });
    try {
      const tools = await client.listTools();
      expect(tools.tools.map((t) => t.name)).toContain('echo__echo');
      for (let i = 0; i < 5; i++) {
        expect(firstText(await client.callTool({ name: 'echo__echo', arguments: { text: `sse ${i}` } }))).toBe(`sse ${i}`);
      }
      const listed = await cluster.directory.listTenant(tenantId);
      expect(listed.some((entry) => entry.node === streamNode!.nodeId && entry.transport === 'sse')).toBe(true);
    } finally {
      await disconnect(client);
    }
  });

  it('serves Streamable HTTP sessions through the balancer, each request on whichever node it lands', async () => {
    const before = new Map(proxy.counts);
    const client = await connectClient(proxy.url, '/t/acme', token, 'streamable-http');
    try {
      for (let i = 0; i < 6; i++) {
        expect(firstText(await client.callTool({ name: 'echo__echo', arguments: { text: `http ${i}` } }))).toBe(`http ${i}`);
      }
    } finally {
      await disconnect(client);
    }
    for (const node of cluster.nodes) expect((proxy.counts.get(new URL(node.url).origin) ?? 0) - (before.get(new URL(node.url).origin) ?? 0)).toBeGreaterThan(2);
  });

  it('tunnels the GET stream: server-initiated notifications reach a client whose stream is on another node', async () => {
    const [streamNode, owner] = cluster.nodes;
    const client = await connectClient(streamNode!.url, '/t/acme', token, 'streamable-http', { postOrigin: owner!.url });
    const eventsKey = cluster.keys.sessionEvents(client.transport!.sessionId!);
    try {
      const bus = await cluster.controlBus();
      let notified = false;
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => void (notified = true));
      // The client opens its GET stream in the background after initialization, with no event
      // to await: announce the change until one notification made it through the tunnel.
      await eventually(async () => {
        await bus.publish({ type: 'plugins.changed', tenantId });
        return notified;
      }, 5_000, 100);
      // Kept for resumption while the session lives ...
      expect(await cluster.redis.exists(eventsKey)).toBe(1);
    } finally {
      await disconnect(client);
    }
    // ... and deleted with it, not left to expire.
    await eventually(async () => (await cluster.redis.exists(eventsKey)) === 0);
  });

  it('matches every response to its request and session over 100 concurrent sessions on both nodes', async () => {
    const clients = await Promise.all(
      Array.from({ length: 100 }, (_, i) => {
        const transport: TransportName = i % 2 === 0 ? 'streamable-http' : 'sse';
        const [a, b] = i % 4 < 2 ? cluster.nodes : [...cluster.nodes].reverse();
        return transport === 'sse' ? connectClient(a!.url, '/t/acme', token, 'sse', { postOrigin: b!.url }) : connectClient(proxy.url, '/t/acme', token, transport);
      }),
    );
    try {
      const mismatches: string[] = [];
      await Promise.all(
        clients.map(async (client, i) => {
          for (let call = 0; call < 5; call++) {
            const text = `session ${i} call ${call}`;
            const got = firstText(await client.callTool({ name: 'echo__echo', arguments: { text } }));
            if (got !== text) mismatches.push(`${text} → ${got}`);
          }
        }),
      );
      expect(mismatches).toEqual([]);
      const nodesUsed = new Set((await cluster.directory.listTenant(tenantId)).map((entry) => entry.node));
      expect(nodesUsed.size).toBe(2);
    } finally {
      await Promise.all(clients.map((client) => disconnect(client)));
    }
  }, 60_000);

  it('spends two Redis commands per forwarded call, one PUBLISH each way (a third for a slow answer), and no lookup', async () => {
    const [owner, other] = cluster.nodes;
    const sessionId = await openRawSession(`${owner!.url}/t/acme/mcp`, token);
    const call = async (text: string) => {
      const answer = await rawPost(`${other!.url}/t/acme/mcp`, token, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo__echo', arguments: { text } } }, sessionHeaders(sessionId));
      expect(await answer.text()).toContain(text);
    };
    const monitor = new Redis(testRedisUrl());
    try {
      // The nodes' cluster connections (forwarding, registry, event store), found by name.
      const clusterAddresses = String(await cluster.redis.client('LIST'))
        .split('\n')
        .filter((line) => cluster.nodes.some((node) => line.includes(` name=${node.nodeId}:cluster `)))
        .map((line) => /addr=(\S+)/.exec(line)![1]!);
      expect(clusterAddresses).toHaveLength(2);
      await call('warm');
      const commands: string[] = [];
      const monitoring = await monitor.monitor();
      monitoring.on('monitor', (_time: string, args: string[], source: string) => {
        if (clusterAddresses.some((address) => source.endsWith(address))) commands.push(args[0]!.toLowerCase());
      });
      const CALLS = 20;
      for (let i = 0; i < CALLS; i++) await call(`counted ${i}`);
      await monitoring.disconnect();
      // The heartbeat (every 3 s), the tunnel watchdog (every 1 s) and the registry deletes of
      // sessions the previous test closed (entry and stored events) may fall in the window: they
      // are off the message path, so only what they send is set aside.
      const periodic = new Set(['multi', 'exec', 'set', 'sadd', 'hset', 'hdel', 'del', 'pexpire', 'pubsub']);
      const perMessage = commands.filter((command) => !periodic.has(command));
      // No lookups: one PUBLISH there, one back. An answer slower than the owner's 10 ms
      // coalescing window (a loaded machine) goes back in two, so a third is allowed, never more.
      expect(new Set(perMessage)).toEqual(new Set(['publish']));
      expect(perMessage.length).toBeGreaterThanOrEqual(CALLS * 2);
      expect(perMessage.length).toBeLessThanOrEqual(CALLS * 3);
    } finally {
      monitor.disconnect();
    }
  });

  it("answers 404 on another node for a session presented with another key's credential", async () => {
    const [owner, other] = cluster.nodes;
    const init = await rawPost(`${owner!.url}/t/acme/mcp`, token, INITIALIZE);
    const sessionId = init.headers.get('mcp-session-id')!;
    await init.body?.cancel();
    expect(sessionId.endsWith(`.${owner!.nodeId}`)).toBe(true);
    const stolen = await rawPost(`${other!.url}/t/acme/mcp`, otherToken, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, {
      'mcp-session-id': sessionId,
      'mcp-protocol-version': '2025-06-18',
    });
    expect(stolen.status).toBe(404);
    expect(((await stolen.json()) as { error: { code: number } }).error.code).toBe(-32001);
  });

  it('answers 404 at once for a session id naming a node that does not exist', async () => {
    const started = Date.now();
    const forged = await rawPost(`${cluster.nodes[0]!.url}/t/acme/mcp`, token, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, {
      'mcp-session-id': '00000000-0000-4000-8000-000000000000.no-such-node',
      'mcp-protocol-version': '2025-06-18',
    });
    expect(forged.status).toBe(404);
    // No forward was attempted: far below the forward timeout, with room for a loaded machine.
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('ends a session on whichever node holds it when the API publishes session.terminate', async () => {
    const [owner, other] = cluster.nodes;
    const init = await rawPost(`${owner!.url}/t/acme/mcp`, token, INITIALIZE);
    const sessionId = init.headers.get('mcp-session-id')!;
    await init.body?.cancel();
    expect((await cluster.directory.find(sessionId))?.node).toBe(owner!.nodeId);
    const bus = await cluster.controlBus();
    await bus.publish({ type: 'session.terminate', sessionId });
    await eventually(async () => (await cluster.directory.find(sessionId)) === undefined);
    const after = await rawPost(`${other!.url}/t/acme/mcp`, token, { jsonrpc: '2.0', id: 3, method: 'tools/list' }, {
      'mcp-session-id': sessionId,
      'mcp-protocol-version': '2025-06-18',
    });
    expect(after.status).toBe(404);
  });

  it('answers DELETE forwarded to the owner, after which the session is gone everywhere', async () => {
    const [owner, other] = cluster.nodes;
    const init = await rawPost(`${owner!.url}/t/acme/mcp`, token, INITIALIZE);
    const sessionId = init.headers.get('mcp-session-id')!;
    await init.body?.cancel();
    const headers = { authorization: `Bearer ${token}`, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' };
    const deleted = await fetch(`${other!.url}/t/acme/mcp`, { method: 'DELETE', headers });
    expect(deleted.status).toBe(200);
    const after = await rawPost(`${owner!.url}/t/acme/mcp`, token, { jsonrpc: '2.0', id: 3, method: 'tools/list' }, headers);
    expect(after.status).toBe(404);
  });
});
