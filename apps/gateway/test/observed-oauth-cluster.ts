import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateApiKey } from '@switchboard/api-keys';
import type { PrismaClient } from '@switchboard/db';
import { keyIdOf, type KeyRing } from '@switchboard/secrets';
import { createMigratedDatabase, createTempDataDir, testRedisUrl } from '@switchboard/testing';
import { startGateway, type RunningGateway } from '../src/main';
import { TESTKIT_PLUGIN } from './gateway-harness';

/**
 * The OAuth cluster of oauth-cluster.ts (two gateway nodes, one database, Redis, a non-sticky
 * round-robin balancer as PUBLIC_GATEWAY_URL), with two things more for the per-user upstream
 * tests: the balancer writes down every request it forwards (path, Authorization, POST body), so
 * a test can see which token reached an upstream endpoint of the cluster, i.e. whom the upstream
 * saw; and the test holds the key pepper, so it issues as many API keys (people) as it needs.
 */
export interface ObservedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  /** POST bodies only, as sent. */
  body: string;
}

export interface ObservedOAuthCluster {
  url: string;
  nodes: RunningGateway[];
  prisma: PrismaClient;
  secretsKey: Buffer;
  /** Every request through the balancer, in arrival order (bodies complete once the request ended). */
  seen: ObservedRequest[];
  tenant(slug: string, name: string, plugins?: string[]): Promise<{ tenantId: string }>;
  /** An API key of the tenant: its token, and the id OAuth grants made with it name (`key:<id>`). */
  issueKey(tenantId: string, name: string): Promise<{ id: string; token: string }>;
  close(): Promise<void>;
}

export async function startObservedOAuthCluster(label: string, env: Record<string, string> = {}): Promise<ObservedOAuthCluster> {
  const database = await createMigratedDatabase(`gw_${label}`);
  const dataDir = createTempDataDir(`gw_${label}`);
  const nodes: RunningGateway[] = [];
  const seen: ObservedRequest[] = [];
  const balancer = await startObservingBalancer(() => nodes.map((n) => n.url), seen);
  const close = async () => {
    await balancer.close();
    await Promise.all(nodes.map((n) => n.close()));
    await database.close();
    dataDir.remove();
  };
  const pepper = randomBytes(32);
  const secretsKey = randomBytes(32);
  const nodeEnv = {
    DATABASE_URL: database.test.url,
    GATEWAY_PORT: '0',
    GATEWAY_METRICS_PORT: 'off',
    DATA_DIR: dataDir.dir,
    SECRETS_KEY: secretsKey.toString('base64'),
    KEY_PEPPER: pepper.toString('base64'),
    LOG_LEVEL: 'silent',
    PLUGINS: TESTKIT_PLUGIN,
    PUBLIC_GATEWAY_URL: balancer.url,
    REDIS_URL: testRedisUrl(),
    CLUSTER_SECRET: randomBytes(32).toString('base64'),
    REDIS_PREFIX: `${label.replace(/[^a-z0-9]/gi, '')}${randomBytes(4).toString('hex')}`,
    ...env,
  };
  try {
    for (const node of ['a', 'b']) nodes.push(await startGateway({ ...nodeEnv, NODE_ID: `gw-${label}-${node}` }));
  } catch (error) {
    await close();
    throw error;
  }
  const prisma = database.db.prisma;
  const peppers: KeyRing = { current: { id: keyIdOf(pepper), key: pepper }, previous: [] };
  return {
    url: balancer.url,
    nodes,
    prisma,
    secretsKey,
    seen,
    async tenant(slug, name, plugins = ['echo']) {
      const tenant = await prisma.tenant.create({ data: { slug, name } });
      for (const plugin of plugins) await prisma.pluginInstallation.create({ data: { tenantId: tenant.id, plugin } });
      return { tenantId: tenant.id };
    },
    async issueKey(tenantId, name) {
      const key = generateApiKey(peppers);
      const row = await prisma.apiKey.create({ data: { tenantId, name, publicId: key.publicId, secretHash: key.secretHash, pepperId: key.pepperId, plugins: [], createdBy: 'test' } });
      return { id: row.id, token: key.token };
    },
    close,
  };
}

/** round-robin-proxy.ts's balancer, writing down what it forwards. */
async function startObservingBalancer(upstreams: () => string[], seen: ObservedRequest[]): Promise<{ url: string; close(): Promise<void> }> {
  let next = 0;
  const server = http.createServer((req, res) => {
    const targets = upstreams();
    if (targets.length === 0) {
      res.writeHead(503).end('no upstream');
      return;
    }
    const target = new URL(targets[next++ % targets.length]!);
    const observed: ObservedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', authorization: req.headers.authorization, body: '' };
    seen.push(observed);
    const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      res.flushHeaders();
      answer.pipe(res);
    });
    upstream.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
    res.on('close', () => upstream.destroy());
    if (req.method === 'POST') req.on('data', (chunk: Buffer) => (observed.body += chunk.toString('utf8')));
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
