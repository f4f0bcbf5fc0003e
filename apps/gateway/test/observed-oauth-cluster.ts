import type { PrismaClient } from '@switchboard/db';
import type { RunningGateway } from '../src/main';
import { startOAuthCluster, type OAuthCluster } from './oauth-cluster';
import type { ObservedRequest } from './round-robin-proxy';

export type { ObservedRequest } from './round-robin-proxy';

/**
 * The OAuth cluster of oauth-cluster.ts (two gateway nodes, one database, Redis, a non-sticky
 * round-robin balancer as PUBLIC_GATEWAY_URL) whose balancer writes down every request it
 * forwards (path, Authorization, POST body), so a per-user upstream test can see which token
 * reached an upstream endpoint of the cluster, i.e. whom the upstream saw.
 */
export interface ObservedOAuthCluster {
  url: string;
  nodes: RunningGateway[];
  prisma: PrismaClient;
  secretsKey: Buffer;
  /** Every request through the balancer, in arrival order (bodies complete once the request ended). */
  seen: ObservedRequest[];
  tenant(slug: string, name: string, plugins?: string[]): Promise<{ tenantId: string }>;
  issueKey: OAuthCluster['issueKey'];
  close(): Promise<void>;
}

export async function startObservedOAuthCluster(label: string, env: Record<string, string> = {}): Promise<ObservedOAuthCluster> {
  const seen: ObservedRequest[] = [];
  const cluster = await startOAuthCluster(label, env, seen);
  const { prisma } = cluster;
  return {
    url: cluster.proxy.url,
    nodes: cluster.nodes,
    prisma,
    secretsKey: cluster.secretsKey,
    seen,
    async tenant(slug, name, plugins = ['echo']) {
      const tenant = await prisma.tenant.create({ data: { slug, name } });
      for (const plugin of plugins) await prisma.pluginInstallation.create({ data: { tenantId: tenant.id, plugin } });
      return { tenantId: tenant.id };
    },
    issueKey: cluster.issueKey,
    close: cluster.close,
  };
}

/**
 * The per-user remote-mcp installation both per-user tests use: named `up`, federating `url`
 * (an upstream endpoint of the cluster itself), declaring the upstream's echo tool. Its row id.
 */
export async function installPerUserUpstream(prisma: PrismaClient, tenantId: string, url: string): Promise<string> {
  const row = await prisma.pluginInstallation.create({
    data: {
      tenantId,
      plugin: 'remote-mcp',
      name: 'up',
      config: {
        url,
        auth: 'oauth',
        oauthMode: 'per-user',
        declaredTools: [{ name: 'echo__echo', description: 'Echoes the text', inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] } }],
      },
    },
  });
  return row.id;
}
