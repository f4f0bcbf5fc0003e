import { Client, StreamableHTTPClientTransport, type McpSubscription } from '@modelcontextprotocol/client';
import { eventually, GENEROUS_LIMITS, startCluster, type Cluster } from './cluster-harness';

const MODERN = '2026-07-28';

/** The official v2 SDK client, pinned to the 2026-07-28 wire (no session), recording the change notifications it hears. */
async function modernClient(url: string, token: string): Promise<{ client: Client; heard: string[] }> {
  const client = new Client({ name: 'listen-e2e', version: '1.0.0' }, { versionNegotiation: { mode: { pin: MODERN } } });
  const heard: string[] = [];
  client.setNotificationHandler('notifications/tools/list_changed', () => void heard.push('tools'));
  client.setNotificationHandler('notifications/prompts/list_changed', () => void heard.push('prompts'));
  await client.connect(new StreamableHTTPClientTransport(new URL('/t/acme/mcp', url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return { client, heard };
}

// A change is published once on the control bus; each node tells its own listen streams.
describe('subscriptions/listen across two gateway nodes (cluster mode)', () => {
  let cluster: Cluster;
  let tenantId: string;
  let token: string;

  beforeAll(async () => {
    cluster = await startCluster('listen', { nodes: 2, env: GENEROUS_LIMITS });
    const tenant = await cluster.createTenant('acme');
    tenantId = tenant.id;
    await cluster.install(tenant.id, 'conformance');
    token = (await cluster.issueKey(tenant.id)).token;
  }, 60_000);

  afterAll(async () => {
    await cluster?.close();
  });

  it('real modern clients receive a tools/list_changed through subscriptions/listen when an admin enables a plugin, with requests spread over 2 nodes', async () => {
    const [first, second] = await Promise.all(cluster.nodes.map((node) => modernClient(node.url, token)));
    const subscriptions: McpSubscription[] = [];
    try {
      for (const { client } of [first!, second!]) subscriptions.push(await client.listen({ toolsListChanged: true }));
      expect(subscriptions.map((s) => s.honoredFilter)).toEqual([{ toolsListChanged: true }, { toolsListChanged: true }]);
      // As the admin API enables a plugin: the row, then one event on the bus.
      await cluster.install(tenantId, 'echo');
      await (await cluster.controlBus()).publish({ type: 'plugins.changed', tenantId });
      await eventually(() => first!.heard.length > 0 && second!.heard.length > 0);
      expect([first!.heard, second!.heard]).toEqual([['tools'], ['tools']]);
      // Either node lists the new plugin's tools now.
      for (const { client } of [first!, second!]) expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('echo__echo');
    } finally {
      await Promise.all(subscriptions.map((s) => s.close()));
      await Promise.all([first!, second!].map(({ client }) => client.close()));
    }
  });

  it('tells a listener on node 0 once of a tool change announced by a call on node 1', async () => {
    const listener = await modernClient(cluster.nodes[0]!.url, token);
    const caller = await modernClient(cluster.nodes[1]!.url, token);
    const subscription = await listener.client.listen({ toolsListChanged: true, promptsListChanged: true });
    try {
      await caller.client.callTool({ name: 'conformance__test_trigger_tool_change', arguments: {} });
      // Published after the tool change, on the same bus: a duplicate would have come before it.
      await caller.client.callTool({ name: 'conformance__test_trigger_prompt_change', arguments: {} });
      await eventually(() => listener.heard.includes('prompts'));
      expect(listener.heard).toEqual(['tools', 'prompts']);
      // The caller's own node heard the change too, and its listeners are told once as well.
      const local = await caller.client.listen({ toolsListChanged: true, promptsListChanged: true });
      try {
        await caller.client.callTool({ name: 'conformance__test_trigger_tool_change', arguments: {} });
        await caller.client.callTool({ name: 'conformance__test_trigger_prompt_change', arguments: {} });
        await eventually(() => listener.heard.length === 4 && caller.heard.includes('prompts'));
        expect(caller.heard).toEqual(['tools', 'prompts']);
      } finally {
        await local.close();
      }
    } finally {
      await subscription.close();
      await listener.client.close();
      await caller.client.close();
    }
  });
});
