import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { startApi, type RunningApi } from '@switchboard/api-app';
import { startGateway, type RunningGateway } from '@switchboard/gateway-app';
import { connectMcpClient, createTempDataDir, createTestDatabase, eventually, type McpTransportName, type TestDatabase, testRedisUrl } from '@switchboard/testing';
import { Redis } from 'ioredis';
import jwt from 'jsonwebtoken';
import { startPlatform } from './platform';

// The admin API and the gateway together, as deployed: tool calls made through the gateway come
// back as totals from the usage API. Cluster mode runs both apps with Redis (usage events through
// BullMQ to the API's worker); embedded mode runs them as `npm start` does, in one process with
// no DATABASE_URL or REDIS_URL (usage events through the in-process sink into PGlite).

const ROOT = path.resolve(__dirname, '../../..');
/** A plugin with a secret config field (`token`) and a failing tool, from the gateway's fixtures. */
const TESTKIT_PLUGIN = path.join(ROOT, 'apps/gateway/test/fixtures/testkit-plugin');
const PLUGIN_SECRET = `plugin-secret-${randomBytes(8).toString('hex')}`;
const ECHO_CALLS = 5;
const FAILING_CALLS = 2;
const DAY_MS = 24 * 3600_000;
/** How long usage may take to arrive through the pipeline; well inside the test's own timeout. */
const USAGE_DELIVERY_TIMEOUT_MS = 30_000;

type Json = Record<string, any>;

/** Collects a pino destination's lines, for asserting what was (and was not) logged. */
function logSink(): { stream: Writable; text(): string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}

function adminToken(secret: string): string {
  return jwt.sign({ role: 'admin' }, secret, { algorithm: 'HS256', issuer: 'switchboard', audience: 'switchboard-admin', subject: 'admin', expiresIn: 600 });
}

interface Platform {
  api: RunningApi;
  gateway: RunningGateway;
  adminToken: string;
  logs(): string;
  close(): Promise<void>;
}

/** The two apps as one platform; closing it stops the gateway, then the API, then removes the data. */
function platformOf(
  apps: { api: RunningApi; gateway: RunningGateway; close(): Promise<void> },
  adminSecret: string,
  logs: { text(): string },
  data: { remove(): void },
): Platform {
  return {
    api: apps.api,
    gateway: apps.gateway,
    adminToken: adminToken(adminSecret),
    logs: logs.text,
    async close() {
      await apps.close();
      data.remove();
    },
  };
}

async function admin(platform: Platform, method: string, route: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const response = await fetch(platform.api.url + route, {
    method,
    headers: { authorization: `Bearer ${platform.adminToken}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Json) : {} };
}

/** Tenant acme with echo and testkit (its secret set), and one key; returns the key's secret and id. */
async function setUpTenant(platform: Platform): Promise<{ key: string; keyId: string }> {
  expect((await admin(platform, 'POST', '/v1/tenants', { slug: 'acme', name: 'Acme' })).status).toBe(201);
  expect((await admin(platform, 'PUT', '/v1/tenants/acme/plugins/echo', { config: {} })).status).toBeLessThan(300);
  expect((await admin(platform, 'PUT', '/v1/tenants/acme/plugins/testkit', { config: { greeting: 'hi', token: PLUGIN_SECRET } })).status).toBeLessThan(300);
  const issued = await admin(platform, 'POST', '/v1/tenants/acme/api-keys', { name: 'laptop' });
  expect(issued.status).toBe(201);
  return { key: issued.body['secret'], keyId: issued.body['key'].id };
}

function connect(platform: Platform, key: string, transport: McpTransportName): Promise<Client> {
  return connectMcpClient(platform.gateway.url, '/t/acme', key, transport);
}

/** Echo calls over Streamable HTTP and failing calls over SSE: ECHO_CALLS ok, FAILING_CALLS errors. */
async function makeCalls(platform: Platform, key: string): Promise<Client[]> {
  const streamable = await connect(platform, key, 'streamable-http');
  const sse = await connect(platform, key, 'sse');
  for (let i = 0; i < ECHO_CALLS; i++) await streamable.callTool({ name: 'echo__echo', arguments: { text: `call ${i}` } });
  for (let i = 0; i < FAILING_CALLS; i++) expect((await sse.callTool({ name: 'testkit__boom', arguments: {} })).isError).toBe(true);
  return [streamable, sse];
}

/** Usage totals by tool, polled until the pipeline delivered every call. */
async function usageByTool(platform: Platform, expectedCalls: number): Promise<Json> {
  const from = new Date(Date.now() - DAY_MS).toISOString().slice(0, 10);
  const to = new Date(Date.now() + DAY_MS).toISOString().slice(0, 10);
  let usage: Json = {};
  // The worker or the in-process sink delivers in batches; nothing to await from out here.
  await eventually(async () => {
    const answer = await admin(platform, 'GET', `/v1/tenants/acme/usage?from=${from}&to=${to}&groupBy=tool`);
    expect(answer.status).toBe(200);
    usage = answer.body;
    return usage['totals'].calls >= expectedCalls;
  }, USAGE_DELIVERY_TIMEOUT_MS);
  return usage;
}

function expectUsageMatchesCalls(usage: Json): void {
  expect(usage['totals']).toMatchObject({ calls: ECHO_CALLS + FAILING_CALLS, errors: FAILING_CALLS });
  const groups = Object.fromEntries((usage['groups'] as Json[]).map((g) => [g['group'], g]));
  expect(Object.keys(groups).sort()).toEqual(['echo/echo', 'testkit/boom']);
  expect(groups['echo/echo']).toMatchObject({ calls: ECHO_CALLS, errors: 0 });
  expect(groups['testkit/boom']).toMatchObject({ calls: FAILING_CALLS, errors: FAILING_CALLS });
  expect(groups['echo/echo'].bytesIn).toBeGreaterThan(0);
  expect(groups['echo/echo'].bytesOut).toBeGreaterThan(0);
}

describe('usage metering through BullMQ, with the API and a gateway on Redis', () => {
  jest.setTimeout(60_000);
  let platform: Platform;
  let database: TestDatabase;
  let redisPrefix: string;
  let keyId: string;
  let key: string;
  const clients: Client[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('platform_metering');
    const data = createTempDataDir('platform_metering');
    const logs = logSink();
    const adminSecret = randomBytes(32).toString('base64');
    redisPrefix = `sbtest-metering-${randomBytes(3).toString('hex')}`;
    const env = {
      DATABASE_URL: database.url,
      DATA_DIR: data.dir,
      REDIS_URL: testRedisUrl(),
      // Both apps derive their Redis names from it: control channel, usage queue.
      REDIS_PREFIX: redisPrefix,
      CLUSTER_SECRET: randomBytes(32).toString('base64'),
      SECRETS_KEY: randomBytes(32).toString('base64'),
      KEY_PEPPER: randomBytes(32).toString('base64'),
      ADMIN_JWT_SECRET: adminSecret,
      PLUGINS: TESTKIT_PLUGIN,
      LOG_LEVEL: 'info',
    };
    const api = await startApi(
      { ...env, API_PORT: '0', API_METRICS_PORT: '0' },
      { logDestination: logs.stream },
    );
    const gateway = await startGateway(
      { ...env, GATEWAY_PORT: '0', GATEWAY_METRICS_PORT: '0', NODE_ID: `${redisPrefix}-gw` },
      { logDestination: logs.stream },
    );
    const close = async () => {
      await gateway.close();
      await api.close();
    };
    platform = platformOf({ api, gateway, close }, adminSecret, logs, data);
    ({ key, keyId } = await setUpTenant(platform));
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await platform?.close();
    await database?.drop();
    const redis = new Redis(testRedisUrl());
    const leftovers = await redis.keys(`${redisPrefix}*`);
    if (leftovers.length > 0) await redis.del(...leftovers);
    redis.disconnect();
  });

  it('returns usage totals equal to the tool calls made through the gateway, and moves the key’s lastUsedAt', async () => {
    clients.push(...(await makeCalls(platform, key)));
    expectUsageMatchesCalls(await usageByTool(platform, ECHO_CALLS + FAILING_CALLS));
    // The queue lives under this installation's REDIS_PREFIX, not BullMQ's shared default `bull`.
    const redis = new Redis(testRedisUrl());
    try {
      expect(await redis.keys(`${redisPrefix}:bull:usage:*`)).not.toEqual([]);
    } finally {
      redis.disconnect();
    }
    const keys = await admin(platform, 'GET', '/v1/tenants/acme/api-keys');
    expect(keys.body['items'].find((k: Json) => k['id'] === keyId).lastUsedAt).not.toBeNull();
  });

  it('logs request id, tenant, session and node on gateway request lines, and never a key, token or plugin secret', async () => {
    // The rest of a key's life: revoked, and refused. The revocation reaches the gateway through
    // Redis pub/sub after the admin call returns, so the refusal is awaited, not assumed at once.
    expect((await admin(platform, 'POST', `/v1/tenants/acme/api-keys/${keyId}/revoke`)).status).toBe(200);
    const pingStatus = async () => {
      const response = await fetch(new URL('/t/acme/mcp', platform.gateway.url), {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
      });
      await response.body?.cancel();
      return response.status;
    };
    await eventually(async () => (await pingStatus()) === 401);

    const lines = platform
      .logs()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Json);
    const gatewayRequests = lines.filter((l) => l['name'] === 'gateway' && l['msg'] === 'request');
    expect(gatewayRequests.length).toBeGreaterThan(ECHO_CALLS);
    // Streamable HTTP POSTs (200, session in a header) and legacy SSE POSTs (202, `?sessionId=`).
    const toolPosts = gatewayRequests.filter((l) => l['method'] === 'POST' && (l['status'] === 200 || l['status'] === 202));
    expect(new Set(toolPosts.map((l) => l['status']))).toEqual(new Set([200, 202]));
    for (const line of toolPosts) {
      expect(line).toMatchObject({ requestId: expect.any(String), tenant: 'acme', node: `${redisPrefix}-gw`, sessionId: expect.any(String) });
    }

    const text = platform.logs();
    const [publicId, secretPart] = key.replace(/^sbk_/, '').split('_');
    for (const secret of [key, secretPart!, platform.adminToken, PLUGIN_SECRET]) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/authorization"\s*:\s*"Bearer/i);
    // The key's public id may appear (it identifies, it does not authenticate); its secret never.
    expect(publicId).toBeDefined();
  });
});

describe('usage metering in embedded mode (one process, no DATABASE_URL or REDIS_URL)', () => {
  jest.setTimeout(60_000);
  let platform: Platform;
  const clients: Client[] = [];

  beforeAll(async () => {
    const data = createTempDataDir('platform_embedded_metering');
    const adminSecret = randomBytes(32).toString('base64');
    const logs = logSink();
    // What `npm start` does: the API first (migrations, generated secrets, the in-process sink),
    // then the gateway on the same DATA_DIR, sharing the launcher's embedded hub.
    const env = {
      DATA_DIR: data.dir,
      ADMIN_JWT_SECRET: adminSecret,
      PLUGINS: TESTKIT_PLUGIN,
      LOG_LEVEL: 'warn',
      API_PORT: '0',
      API_METRICS_PORT: 'off',
      GATEWAY_PORT: '0',
      GATEWAY_METRICS_PORT: 'off',
    };
    const apps = await startPlatform(env, { api: { logDestination: logs.stream, print: () => undefined }, gateway: { logDestination: logs.stream } });
    platform = platformOf(apps, adminSecret, logs, data);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await platform?.close();
  });

  it('returns usage totals equal to the tool calls made, through the in-process sink', async () => {
    const { key } = await setUpTenant(platform);
    clients.push(...(await makeCalls(platform, key)));
    expectUsageMatchesCalls(await usageByTool(platform, ECHO_CALLS + FAILING_CALLS));
  });
});
