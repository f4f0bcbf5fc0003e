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
} from './cluster-harness';
import { firstText } from '@switchboard/testing';

// A virtual server's sessions across two nodes: the view travels with the session (the owner node
// answers), a session id opened on the virtual URL is refused on another URL even when the request
// lands on the other node and is forwarded, and a change reaches sessions on every node.
describe('virtual servers on two gateway nodes (cluster mode)', () => {
  let cluster: Cluster;
  let proxy: RoundRobinProxy;
  let token: string;
  let tenantId: string;

  beforeAll(async () => {
    cluster = await startCluster('virtual', { nodes: 2, env: GENEROUS_LIMITS });
    tenantId = (await cluster.createTenant('acme')).id;
    await cluster.install(tenantId, 'echo');
    await cluster.install(tenantId, 'testkit');
    await cluster.prisma.virtualServer.create({ data: { tenantId, name: 'curated', tools: [{ source: 'echo__echo', name: 'say', description: 'Says it back' }] } });
    token = (await cluster.issueKey(tenantId)).token;
    proxy = await startRoundRobinProxy(() => cluster.nodes.map((node) => node.url));
  }, 60_000);

  afterAll(async () => {
    await proxy?.close();
    await cluster?.close();
  });

  it('serves an SSE session whose POSTs land on the other node, with the curated view', async () => {
    const [streamNode, postNode] = cluster.nodes;
    const client = await connectClient(streamNode!.url, '/t/acme/v/curated', token, 'sse', { postOrigin: postNode!.url });
    try {
      expect((await client.listTools()).tools.map((t) => [t.name, t.description])).toEqual([['say', 'Says it back']]);
      expect(firstText(await client.callTool({ name: 'say', arguments: { text: 'across' } }))).toBe('across');
      await expect(client.callTool({ name: 'echo__echo', arguments: { text: 'x' } })).rejects.toThrow(/Unknown tool/);
    } finally {
      await disconnect(client);
    }
  });

  it('serves Streamable HTTP through the balancer and refuses the session id on the tenant-wide URL of either node', async () => {
    const client = await connectClient(proxy.url, '/t/acme/v/curated', token, 'streamable-http');
    try {
      for (let i = 0; i < 4; i++) expect(firstText(await client.callTool({ name: 'say', arguments: { text: `n ${i}` } }))).toBe(`n ${i}`);
      await expect(client.callTool({ name: 'echo__echo', arguments: { text: 'x' } })).rejects.toThrow(/Unknown tool/);
    } finally {
      await disconnect(client);
    }
    const [owner, other] = cluster.nodes;
    const sessionId = await openRawSession(`${owner!.url}/t/acme/v/curated/mcp`, token);
    for (const node of [owner!, other!]) {
      const wrongUrl = await rawPost(`${node.url}/t/acme/mcp`, token, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, sessionHeaders(sessionId));
      expect(wrongUrl.status).toBe(404);
      await wrongUrl.body?.cancel();
      const rightUrl = await rawPost(`${node.url}/t/acme/v/curated/mcp`, token, { jsonrpc: '2.0', id: 3, method: 'tools/list' }, sessionHeaders(sessionId));
      expect(rightUrl.status).toBe(200);
      expect(await rightUrl.text()).toContain('"say"');
    }
  });

  it('shows a changed server to a session on either node once the admin API announces it', async () => {
    const bus = await cluster.controlBus();
    const clients = await Promise.all(cluster.nodes.map((node) => connectClient(node.url, '/t/acme/v/curated', token, 'streamable-http')));
    try {
      await cluster.prisma.virtualServer.update({ where: { tenantId_name: { tenantId, name: 'curated' } }, data: { tools: [{ source: 'testkit__whoami', name: 'me' }] } });
      await bus.publish({ type: 'plugins.changed', tenantId });
      for (const client of clients) await eventually(async () => (await client.listTools()).tools.map((t) => t.name).join() === 'me', 10_000, 100);
    } finally {
      await Promise.all(clients.map((client) => disconnect(client)));
      await cluster.prisma.virtualServer.update({
        where: { tenantId_name: { tenantId, name: 'curated' } },
        data: { tools: [{ source: 'echo__echo', name: 'say', description: 'Says it back' }] },
      });
      await bus.publish({ type: 'plugins.changed', tenantId });
    }
  });
});
