import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { createTempDataDir, createTestDatabase, startTcpProxy, testRedisUrl, type TcpProxy, type TestDatabase } from '@switchboard/testing';
import { mintAdminToken } from '../auth/admin-jwt';
import { DEFAULT_ADMIN_JWT_AUDIENCE, DEFAULT_ADMIN_JWT_ISSUER } from '../config/api-config';
import { startApi, type ApiEmbedding, type RunningApi } from '../main';

/** Test plugins (weather has a secret field); the real plugins/ folder belongs to the gateway's tests. */
export const FIXTURE_PLUGINS_DIR = path.resolve(__dirname, '../../test-fixtures/plugins');
export const PUBLIC_GATEWAY_URL = 'https://mcp.example.test';

/** Response bodies are untyped JSON that tests assert on field by field. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface ApiResponse<T = Json> {
  status: number;
  body: T;
  headers: Headers;
}

export interface TestApi {
  api: RunningApi;
  url: string;
  /** The test's own Postgres database, for checking what was stored. */
  databaseUrl: string;
  adminSecret: string;
  /** The SECRETS_KEY the API runs with, to open stored envelopes in tests. */
  secretsKey: Buffer;
  /** The KEY_PEPPER the API runs with (base64), for a gateway-side resolver in tests. */
  keyPepper: string;
  /** A platform admin token (`role: "admin"`). */
  platformToken: string;
  tenantAdminToken(tenantId: string): string;
  request<T = Json>(method: string, path: string, options?: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> }): Promise<ApiResponse<T>>;
  /** With `databaseRelay`: the TCP relay between the API and its database, to cut() and restore(). */
  databaseRelay?: TcpProxy;
  /** Cluster mode only: the CLUSTER_SECRET and the Redis names of this test's API. */
  cluster?: { redisUrl: string; secret: Buffer; controlChannel: string; usageQueuePrefix: string };
  /** Everything the API logged so far. */
  logs(): string;
  /** The mutable clock the API runs on (ms since epoch). */
  clock: { now(): number; advance(ms: number): void };
  close(): Promise<void>;
}

export interface TestApiOptions {
  /** Cluster mode: REDIS_URL (the test Redis unless given) and CLUSTER_SECRET, with Redis names of this test's own. */
  redis?: boolean | { url: string };
  /** Connect the API to its database through a TCP relay the test can cut (a real outage). */
  databaseRelay?: boolean;
  /** Embedded mode: the parts a gateway in the same process would share with the API. */
  embedded?: ApiEmbedding;
}

/** Starts the API on port 0 (metrics too) against a fresh Postgres database of its own, logs captured. */
export async function startTestApi(label: string, env: Record<string, string> = {}, options: TestApiOptions = {}): Promise<TestApi> {
  const database: TestDatabase = await createTestDatabase(label);
  const data = createTempDataDir(label);
  const adminSecret = randomBytes(32).toString('base64');
  const secretsKey = randomBytes(32);
  const keyPepper = randomBytes(32).toString('base64');
  let logText = '';
  const destination = new Writable({
    write(chunk, _encoding, done) {
      logText += chunk.toString();
      done();
    },
  });
  const unique = `sb-test-${label}-${randomBytes(4).toString('hex')}`;
  const cluster = options.redis
    ? {
        redisUrl: typeof options.redis === 'object' ? options.redis.url : testRedisUrl(),
        secret: randomBytes(32),
        controlChannel: `${unique}:control`,
        usageQueuePrefix: unique,
      }
    : undefined;
  const databaseRelay = options.databaseRelay ? await startTcpProxy(database.url) : undefined;
  let offset = 0;
  const clock = { now: () => Date.now() + offset, advance: (ms: number) => void (offset += ms) };
  const api = await startApi(
    {
      DATABASE_URL: databaseRelay?.url ?? database.url,
      DATA_DIR: data.dir,
      API_PORT: '0',
      API_METRICS_PORT: '0',
      ADMIN_JWT_SECRET: adminSecret,
      SECRETS_KEY: secretsKey.toString('base64'),
      KEY_PEPPER: keyPepper,
      PUBLIC_GATEWAY_URL,
      PLUGINS_DIR: FIXTURE_PLUGINS_DIR,
      LOG_LEVEL: 'debug',
      ...(cluster ? { REDIS_URL: cluster.redisUrl, CLUSTER_SECRET: cluster.secret.toString('base64') } : {}),
      ...env,
    },
    { logDestination: destination, clock, redisNamespace: cluster, embedded: options.embedded },
  );
  const mint = (tenantId?: string) =>
    mintAdminToken({ secret: adminSecret, issuer: DEFAULT_ADMIN_JWT_ISSUER, audience: DEFAULT_ADMIN_JWT_AUDIENCE, tenantId });

  return {
    api,
    url: api.url,
    databaseUrl: database.url,
    adminSecret,
    secretsKey,
    keyPepper,
    platformToken: mint(),
    tenantAdminToken: (tenantId) => mint(tenantId),
    clock,
    cluster,
    databaseRelay,
    logs: () => logText,
    async request(method, route, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.token) headers['authorization'] = `Bearer ${options.token}`;
      let body: string | undefined = options.rawBody;
      if (options.body !== undefined) {
        body = JSON.stringify(options.body);
        headers['content-type'] ??= 'application/json';
      }
      const response = await fetch(api.url + route, { method, headers, body });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        /* not JSON: keep the text */
      }
      return { status: response.status, body: parsed as Json, headers: response.headers };
    },
    async close() {
      await api.close();
      await databaseRelay?.close();
      if (cluster) await deleteRedisKeys(testRedisUrl(), `${cluster.usageQueuePrefix}:*`);
      await database.drop();
      data.remove();
    },
  };
}

/** Removes what a test left in the shared Redis (BullMQ keeps queue metadata and finished jobs). */
async function deleteRedisKeys(redisUrl: string, pattern: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
