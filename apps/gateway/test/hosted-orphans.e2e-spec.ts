import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { connectClient, eventually, startCluster, type Cluster } from './cluster/cluster-harness';

// Issue 6: hosted servers are "killed with the node (no orphans)". A graceful stop is covered by
// hosted-servers.int-spec; this is the death that runs no code: SIGKILL of the gateway process.

const STUBBORN_SERVER_JS = path.resolve(__dirname, '../../../dist/apps/gateway/test/fixtures/stubborn-server.js');

/** Alive, as opposed to gone or a zombie that only waits for its parent to reap it. */
function running(pid: number): boolean {
  try {
    // /proc/<pid>/stat: "pid (comm) state ...", comm may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('hosted servers when their gateway is killed (SIGKILL)', () => {
  let cluster: Cluster;
  const pids: number[] = [];

  beforeAll(async () => {
    cluster = await startCluster('orphans', { nodes: 1 });
  }, 60_000);

  afterAll(async () => {
    // Whatever the outcome, nothing this test started may outlive it.
    for (const pid of pids) if (running(pid)) process.kill(pid, 'SIGKILL');
    await cluster?.close();
  });

  it('ends the server and the processes it started, even those ignoring SIGTERM', async () => {
    const tenant = await cluster.createTenant('acme');
    await cluster.prisma.serverTemplate.create({
      data: { name: 'stubborn', description: 'outlives its stdin', command: process.execPath, args: [STUBBORN_SERVER_JS], env: [], defaultMode: 'shared' },
    });
    await cluster.install(tenant.id, 'stubborn');
    const { token } = await cluster.issueKey(tenant.id);
    const node = cluster.nodes[0]!;
    const client = await connectClient(node.url, '/t/acme', token, 'streamable-http');
    const result = (await client.callTool({ name: 'stubborn__pids', arguments: {} })) as CallToolResult;
    const { server, helper } = JSON.parse((result.content[0] as { text: string }).text) as { server: number; helper: number };
    pids.push(server, helper);
    expect(running(server) && running(helper)).toBe(true);

    node.kill('SIGKILL');
    await node.exited;
    await client.close().catch(() => undefined);
    // The guard sends SIGTERM at once and SIGKILL 2 s later (the helper ignores SIGTERM).
    await eventually(() => !running(server) && !running(helper), 10_000);
  }, 40_000);
});
