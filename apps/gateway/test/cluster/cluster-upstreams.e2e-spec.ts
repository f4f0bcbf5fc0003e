import { randomBytes } from 'node:crypto';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ToolListChangedNotificationSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { pluginSecretsAad, SecretBox } from '@switchboard/secrets';
import { RestartableUpstream } from '../restartable-upstream';
import { connectClient, eventually, GENEROUS_LIMITS, startCluster, type Cluster } from './cluster-harness';
import { firstText } from '@switchboard/testing';

const MODERN = '2026-07-28';

// Two gateway processes federate one upstream made with the official SDK; each node keeps its
// own upstream connection. The upstream restarts (its sessions forgotten) and clients of every
// era, spread over both nodes, keep calling it; its list_changed reaches them all.
describe('remote-mcp on two gateway nodes while the upstream restarts (cluster mode)', () => {
  let cluster: Cluster;
  let upstream: RestartableUpstream;
  let token: string;
  const secretsKey = randomBytes(32);
  let onFirst: Client;
  let onSecond: Client;
  let modern: ModernClient;
  const heardByModern: string[] = [];

  beforeAll(async () => {
    upstream = new RestartableUpstream();
    await upstream.start();
    cluster = await startCluster('upstreams', { nodes: 2, env: { ...GENEROUS_LIMITS, OUTBOUND_ALLOW_CIDRS: '127.0.0.1/32', SECRETS_KEY: secretsKey.toString('base64') } });
    const tenant = await cluster.createTenant('acme');
    // As the admin API stores it: the secret headers sealed for this tenant and plugin.
    await cluster.prisma.pluginInstallation.create({
      data: {
        tenantId: tenant.id,
        plugin: 'remote-mcp',
        config: { url: `${upstream.url}/mcp` },
        secrets: new SecretBox({ current: secretsKey }).encrypt({ headers: { 'X-Upstream-Key': 'k-cluster' } }, pluginSecretsAad(tenant.id, 'remote-mcp')),
        secretsKeyId: new SecretBox({ current: secretsKey }).currentKeyId,
      },
    });
    token = (await cluster.issueKey(tenant.id)).token;
    onFirst = await connectClient(cluster.nodes[0]!.url, '/t/acme', token, 'streamable-http');
    onSecond = await connectClient(cluster.nodes[1]!.url, '/t/acme', token, 'sse');
    modern = new ModernClient({ name: 'upstreams-e2e', version: '1.0.0' }, { versionNegotiation: { mode: { pin: MODERN } } });
    modern.setNotificationHandler('notifications/tools/list_changed', () => void heardByModern.push('tools'));
    await modern.connect(new ModernTransport(new URL('/t/acme/mcp', cluster.nodes[1]!.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  }, 60_000);

  afterAll(async () => {
    await Promise.all([onFirst, onSecond, modern].map((client) => client?.close()));
    await cluster?.close();
    await upstream?.close();
  });

  const whoami = async (client: Client | ModernClient, tag: string) => {
    const result = (await client.callTool({ name: 'remote-mcp__whoami', arguments: { tag } })) as CallToolResult;
    return { isError: result.isError === true, text: firstText(result) };
  };

  it('keeps calls working on both nodes after the upstream forgot every session, running each once', async () => {
    const clients = [onFirst, onSecond, modern];
    for (const [i, client] of clients.entries()) expect(await whoami(client, `before-${i}`)).toEqual({ isError: false, text: `before-${i} ran in generation 0` });
    expect(upstream.lastHeaders['x-upstream-key']).toBe('k-cluster');
    upstream.restart();
    for (const [i, client] of clients.entries()) expect(await whoami(client, `after-${i}`)).toEqual({ isError: false, text: `after-${i} ran in generation 1` });
    expect(upstream.executions.map((run) => run.text).sort()).toEqual([0, 1, 2].flatMap((i) => [`before-${i} ran in generation 0`, `after-${i} ran in generation 1`]).sort());
  });

  it('tells the clients on both nodes when the restarted upstream announces tools/list_changed', async () => {
    upstream.restart();
    // Each node's new upstream session, opened by these calls, is one that announces.
    for (const client of [onFirst, onSecond]) expect((await whoami(client, 'reconnect')).isError).toBe(false);
    let first = 0;
    let second = 0;
    onFirst.setNotificationHandler(ToolListChangedNotificationSchema, () => void first++);
    onSecond.setNotificationHandler(ToolListChangedNotificationSchema, () => void second++);
    const subscription = await modern.listen({ toolsListChanged: true });
    try {
      upstream.addTool('added_later');
      await eventually(() => first > 0 && second > 0 && heardByModern.length > 0, 15_000);
      const lists = async (client: Client | ModernClient) => (await client.listTools()).tools.some((tool) => tool.name === 'remote-mcp__added_later');
      for (const client of [onFirst, onSecond, modern]) await eventually(() => lists(client), 15_000);
    } finally {
      await subscription.close();
    }
  });
});
