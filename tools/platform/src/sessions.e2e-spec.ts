import { randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startApi, type RunningApi } from '@switchboard/api-app';
import { startGateway, type RunningGateway } from '@switchboard/gateway-app';
import { connectMcpClient, createTempDataDir, createTestDatabase, eventually, type McpTransportName, type TestDatabase, testRedisUrl } from '@switchboard/testing';
import { Redis } from 'ioredis';
import jwt from 'jsonwebtoken';
import { startPlatform } from './platform';

// The admin API's sessions endpoints over real gateways: embedded (one process, the gateway's
// in-process registry) and cluster mode (two gateway nodes recording their sessions in Redis).

type Json = Record<string, any>;

interface World {
  api: RunningApi;
  gateways: RunningGateway[];
  adminToken: string;
}

function adminToken(secret: string): string {
  return jwt.sign({ role: 'admin' }, secret, { algorithm: 'HS256', issuer: 'switchboard', audience: 'switchboard-admin', subject: 'admin', expiresIn: 600 });
}

async function admin(world: World, method: string, route: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const response = await fetch(world.api.url + route, {
    method,
    headers: { authorization: `Bearer ${world.adminToken}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Json) : {} };
}

async function setUpTenant(world: World): Promise<string> {
  expect((await admin(world, 'POST', '/v1/tenants', { slug: 'acme', name: 'Acme' })).status).toBe(201);
  expect((await admin(world, 'PUT', '/v1/tenants/acme/plugins/echo', { config: {} })).status).toBeLessThan(300);
  const issued = await admin(world, 'POST', '/v1/tenants/acme/api-keys', { name: 'laptop' });
  expect(issued.status).toBe(201);
  return issued.body['secret'];
}

function connect(gateway: RunningGateway, key: string, transport: McpTransportName): Promise<Client> {
  return connectMcpClient(gateway.url, '/t/acme', key, transport);
}

/** Polls (nothing to await from out here) until the listing satisfies `done`. */
async function listingWhere(world: World, done: (items: Json[]) => boolean): Promise<Json[]> {
  let listed: Json = {};
  const matches = async () => {
    const answer = await admin(world, 'GET', '/v1/tenants/acme/sessions');
    expect(answer.status).toBe(200);
    listed = answer.body;
    return done(listed['items']);
  };
  await eventually(matches).catch((error: unknown) => {
    throw new Error(`sessions listing never matched: ${JSON.stringify(listed)}`, { cause: error });
  });
  return listed['items'];
}

async function listsAndTerminates(world: World, key: string): Promise<void> {
  const [first, second] = [world.gateways[0]!, world.gateways.at(-1)!];
  const streamable = await connect(first, key, 'streamable-http');
  const sse = await connect(second, key, 'sse');
  try {
    const items = await listingWhere(world, (listed) => listed.length === 2);
    expect(items.map((item) => [item['transport'], item['node']]).sort()).toEqual(
      [
        ['sse', second.nodeId],
        ['streamable-http', first.nodeId],
      ].sort(),
    );
    const target = items.find((item) => item['transport'] === 'streamable-http')!;
    expect(target['sessionId']).toBe((streamable.transport as StreamableHTTPClientTransport).sessionId);

    expect((await admin(world, 'DELETE', `/v1/tenants/acme/sessions/${target['sessionId']}`)).status).toBe(204);
    await listingWhere(world, (listed) => listed.length === 1 && listed[0]['transport'] === 'sse');
    await expect(streamable.callTool({ name: 'echo__echo', arguments: { text: 'after' } })).rejects.toThrow();
  } finally {
    await Promise.all([streamable.close(), sse.close()]);
  }
}

describe('sessions endpoints in embedded mode (npm start: one process, no REDIS_URL)', () => {
  let world: World;
  let platform: Awaited<ReturnType<typeof startPlatform>> | undefined;
  let removeData: () => void;

  beforeAll(async () => {
    const data = createTempDataDir('platform_sessions_embedded');
    removeData = data.remove;
    const adminSecret = randomBytes(32).toString('base64');
    const env = { DATA_DIR: data.dir, ADMIN_JWT_SECRET: adminSecret, LOG_LEVEL: 'silent', API_PORT: '0', API_METRICS_PORT: 'off', GATEWAY_PORT: '0', GATEWAY_METRICS_PORT: 'off' };
    platform = await startPlatform(env, { api: { print: () => undefined } });
    world = { api: platform.api, gateways: [platform.gateway], adminToken: adminToken(adminSecret) };
  }, 60_000);

  afterAll(async () => {
    // Gateway first, then the API, as `npm start` stops.
    await platform?.close();
    removeData?.();
  });

  it("lists the gateway's live sessions and ends one", async () => {
    await listsAndTerminates(world, await setUpTenant(world));
  });
});

describe('sessions endpoints in cluster mode (two gateway nodes on Redis)', () => {
  let world: World;
  let database: TestDatabase;
  let prefix: string;
  let removeData: () => void;

  beforeAll(async () => {
    database = await createTestDatabase('platform_sessions');
    const data = createTempDataDir('platform_sessions');
    removeData = data.remove;
    const adminSecret = randomBytes(32).toString('base64');
    prefix = `sbtest-sessions-${randomBytes(3).toString('hex')}`;
    const env = {
      DATABASE_URL: database.url,
      DATA_DIR: data.dir,
      REDIS_URL: testRedisUrl(),
      REDIS_PREFIX: prefix,
      CLUSTER_SECRET: randomBytes(32).toString('base64'),
      SECRETS_KEY: randomBytes(32).toString('base64'),
      KEY_PEPPER: randomBytes(32).toString('base64'),
      ADMIN_JWT_SECRET: adminSecret,
      LOG_LEVEL: 'silent',
    };
    const usageQueuePrefix = `${prefix}-bull`;
    const api = await startApi({ ...env, API_PORT: '0', API_METRICS_PORT: 'off' }, { redisNamespace: { controlChannel: `${prefix}:control`, usageQueuePrefix } });
    const gateways = [];
    for (const node of ['a', 'b']) {
      gateways.push(await startGateway({ ...env, GATEWAY_PORT: '0', GATEWAY_METRICS_PORT: 'off', NODE_ID: `${prefix}-${node}` }, { usageQueuePrefix }));
    }
    world = { api, gateways, adminToken: adminToken(adminSecret) };
  }, 60_000);

  afterAll(async () => {
    for (const gateway of world?.gateways ?? []) await gateway.close();
    await world?.api.close();
    await database?.drop();
    removeData?.();
    const redis = new Redis(testRedisUrl());
    const leftovers = await redis.keys(`${prefix}*`);
    if (leftovers.length > 0) await redis.del(...leftovers);
    redis.disconnect();
  });

  it('lists live sessions across both nodes and ends one on the node that holds it', async () => {
    await listsAndTerminates(world, await setUpTenant(world));
  });
});
