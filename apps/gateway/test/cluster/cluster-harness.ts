import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { generateApiKey } from '@switchboard/api-keys';
import { ClusterKeys, RedisControlBus, RedisSessionDirectory } from '@switchboard/coordination';
import type { PrismaClient } from '@switchboard/db';
import { keyIdOf, type KeyRing } from '@switchboard/secrets';
import { createMigratedDatabase, createTempDataDir, testRedisUrl } from '@switchboard/testing';
import { Redis } from 'ioredis';

/** Re-exported so specs keep importing their helpers from one harness. */
export { eventually } from '@switchboard/testing';

// Several real gateway processes (`node dist/apps/gateway/src/main.js`, as production runs them)
// over one test database and Redis, each test file with its own key prefix and node names.

const ROOT = path.resolve(__dirname, '../../../..');
const GATEWAY_MAIN = path.join(ROOT, 'dist/apps/gateway/src/main.js');
/** The testkit fixture as compiled by the Jest global setup. */
export const TESTKIT_PLUGIN_JS = path.join(ROOT, 'dist/apps/gateway/test/fixtures/testkit-plugin.js');
/** The `slow` fixture (slow-plugin.ts): tools that outlast a short forward timeout. */
export const SLOW_PLUGIN_JS = path.join(ROOT, 'dist/apps/gateway/test/cluster/slow-plugin.js');
const START_TIMEOUT_MS = 20_000;

/** For tests about routing, not limits: room for 100 sessions hammering one key. */
export const GENEROUS_LIMITS: Record<string, string> = {
  LIMIT_REQUESTS_PER_MINUTE: 'unlimited',
  LIMIT_TOOL_CALLS_PER_MINUTE: 'unlimited',
  LIMIT_CONCURRENT_SESSIONS: 'unlimited',
  LIMIT_CONCURRENT_TOOL_CALLS: 'unlimited',
};

export interface GatewayProcess {
  nodeId: string;
  url: string;
  pid: number;
  /** Log lines written so far (JSON, pino). */
  logs: Record<string, unknown>[];
  /** Resolves with the first log line (present or future) matching. */
  logLine(match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  /** Resolves with the next log line written from now on that matches. */
  nextLogLine(match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  kill(signal: NodeJS.Signals): void;
  exited: Promise<void>;
  stop(): Promise<void>;
}

export interface Cluster {
  prefix: string;
  secret: Buffer;
  keys: ClusterKeys;
  nodes: GatewayProcess[];
  prisma: PrismaClient;
  /** The nodes' DATABASE_URL, for another process (the admin API) on the same database. */
  databaseUrl: string;
  /** The key pepper every node uses, for seeding keys. */
  peppers: KeyRing;
  /** Commands for assertions (registry contents); never used to disturb the gateways. */
  redis: Redis;
  directory: RedisSessionDirectory;
  startNode(index: number, env?: Record<string, string>): Promise<GatewayProcess>;
  /** A control bus as the admin API would open it (same channel and secret). */
  controlBus(): Promise<RedisControlBus>;
  createTenant(slug: string): Promise<{ id: string; slug: string }>;
  issueKey(tenantId: string): Promise<{ token: string; id: string }>;
  install(tenantId: string, plugin: string): Promise<void>;
  close(): Promise<void>;
}

export async function startCluster(label: string, options: { nodes: number; env?: Record<string, string> }): Promise<Cluster> {
  const run = randomBytes(3).toString('hex');
  const prefix = `sbtest-${label}-${run}`;
  const database = await createMigratedDatabase(`${label}_cluster`);
  const dataDir = createTempDataDir(label);
  const pepper = randomBytes(32);
  const peppers: KeyRing = { current: { id: keyIdOf(pepper), key: pepper }, previous: [] };
  const secret = randomBytes(32);
  const keys = new ClusterKeys(prefix);
  const redis = new Redis(testRedisUrl());
  const baseEnv: Record<string, string> = {
    DATABASE_URL: database.test.url,
    DATA_DIR: dataDir.dir,
    SECRETS_KEY: randomBytes(32).toString('base64'),
    KEY_PEPPER: pepper.toString('base64'),
    REDIS_URL: testRedisUrl(),
    CLUSTER_SECRET: secret.toString('base64'),
    REDIS_PREFIX: prefix,
    GATEWAY_PORT: '0',
    // Each process its own free metrics port (the default 9091 would collide between nodes).
    GATEWAY_METRICS_PORT: '0',
    LOG_LEVEL: 'info',
    PLUGINS: TESTKIT_PLUGIN_JS,
    ...options.env,
  };
  const nodes: GatewayProcess[] = [];
  const buses: RedisControlBus[] = [];
  const nodeId = (index: number) => `${label}-${run}-${index}`;
  const startNode = async (index: number, env: Record<string, string> = {}) => {
    const node = await startGatewayProcess({ ...baseEnv, NODE_ID: nodeId(index), ...env });
    nodes[index] = node;
    return node;
  };
  const prisma = database.db.prisma;
  const close = async () => {
    await Promise.all(nodes.map((node) => node?.stop()));
    await Promise.all(buses.map((bus) => bus.close()));
    const leftovers = await redis.keys(`${prefix}:*`);
    if (leftovers.length > 0) await redis.del(...leftovers);
    redis.disconnect();
    await database.close();
    dataDir.remove();
  };
  try {
    for (let i = 0; i < options.nodes; i++) await startNode(i);
  } catch (error) {
    await close();
    throw error;
  }
  return {
    prefix,
    secret,
    keys,
    nodes,
    prisma,
    databaseUrl: database.test.url,
    peppers,
    redis,
    directory: new RedisSessionDirectory(redis, keys),
    startNode,
    async controlBus() {
      const bus = new RedisControlBus({ redisUrl: testRedisUrl(), secret, nodeId: `${label}-${run}-api`, channel: keys.controlChannel() });
      buses.push(bus);
      await bus.ready();
      return bus;
    },
    createTenant: (slug) => prisma.tenant.create({ data: { slug, name: slug }, select: { id: true, slug: true } }),
    async issueKey(tenantId) {
      const key = generateApiKey(peppers);
      const row = await prisma.apiKey.create({
        data: { tenantId, name: 'test', publicId: key.publicId, secretHash: key.secretHash, pepperId: key.pepperId, createdBy: 'test' },
      });
      return { token: key.token, id: row.id };
    },
    async install(tenantId, plugin) {
      await prisma.pluginInstallation.create({ data: { tenantId, plugin } });
    },
    close,
  };
}

async function startGatewayProcess(env: Record<string, string>): Promise<GatewayProcess> {
  const child: ChildProcess = spawn(process.execPath, [GATEWAY_MAIN], {
    cwd: ROOT,
    // Only what the test gives: the gateway reads nothing else from its environment.
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const watchers: { match: (line: Record<string, unknown>) => boolean; resolve: (line: Record<string, unknown>) => void }[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    logs.push(line);
    for (const watcher of [...watchers]) {
      if (!watcher.match(line)) continue;
      watchers.splice(watchers.indexOf(watcher), 1);
      watcher.resolve(line);
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const nextLogLine = (match: (line: Record<string, unknown>) => boolean) =>
    new Promise<Record<string, unknown>>((resolve) => watchers.push({ match, resolve }));
  const logLine = (match: (line: Record<string, unknown>) => boolean) => {
    const found = logs.find(match);
    return found ? Promise.resolve(found) : nextLogLine(match);
  };
  let timer: NodeJS.Timeout | undefined;
  const listening = await Promise.race([
    logLine((line) => line['msg'] === 'gateway listening'),
    exited.then(() => Promise.reject(new Error(`gateway exited before listening: ${stderr.slice(-2000)}`))),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('gateway did not start in time')), START_TIMEOUT_MS))),
  ])
    .catch((error: unknown) => {
      // A node that never became ready must not outlive the test.
      child.kill('SIGKILL');
      throw error;
    })
    .finally(() => clearTimeout(timer));
  return {
    nodeId: env['NODE_ID']!,
    url: String(listening['url']),
    pid: child.pid!,
    logs,
    logLine,
    nextLogLine,
    kill: (signal) => child.kill(signal),
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export { startRoundRobinProxy } from '../round-robin-proxy';
export type { RoundRobinProxy } from '../round-robin-proxy';

export type TransportName = 'sse' | 'streamable-http';

/**
 * An official SDK client. `postOrigin` sends every POST to another node than the one that
 * opened the stream (the situation a round-robin balancer creates for legacy SSE). `openOn`
 * sends only the first POST (initialize) there: the session lives on that node, and everything
 * after it (POSTs, the GET stream, DELETE) goes to `origin` and is forwarded.
 */
export async function connectClient(
  origin: string,
  endpointPath: string,
  token: string,
  transport: TransportName,
  options: { postOrigin?: string; openOn?: string } = {},
): Promise<Client> {
  const authorization = `Bearer ${token}`;
  let opened = false;
  const withAuth: typeof fetch = (input, init) => {
    let target = String(input instanceof Request ? input.url : input);
    let to: string | undefined;
    if (options.postOrigin && init?.method === 'POST') to = options.postOrigin;
    if (options.openOn && init?.method === 'POST' && !opened) {
      opened = true;
      to = options.openOn;
    }
    if (to) {
      const url = new URL(target);
      url.host = new URL(to).host;
      target = url.toString();
    }
    const headers = new Headers(init?.headers);
    headers.set('authorization', authorization);
    return fetch(target, { ...init, headers });
  };
  const url = new URL(`${endpointPath}/${transport === 'sse' ? 'sse' : 'mcp'}`, origin);
  const client = new Client({ name: 'cluster-test', version: '1.0.0' });
  await client.connect(
    transport === 'sse'
      ? new SSEClientTransport(url, { eventSourceInit: { fetch: withAuth }, fetch: withAuth })
      : new StreamableHTTPClientTransport(url, { fetch: withAuth }),
  );
  return client;
}

/** Ends a client's session: DELETE for Streamable HTTP (already-gone sessions are fine), then close. */
export async function disconnect(client: Client): Promise<void> {
  if (client.transport instanceof StreamableHTTPClientTransport) await client.transport.terminateSession().catch(() => undefined);
  await client.close();
}

/** A raw JSON-RPC POST (for asserting statuses the SDK client hides). */
export async function rawPost(url: string, token: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify(body),
  });
}

export const TEST_PROTOCOL_VERSION = '2025-06-18';

/** Opens a Streamable HTTP session with raw requests (initialize + initialized) on one node; returns its id. */
export async function openRawSession(url: string, token: string): Promise<string> {
  const init = await rawPost(url, token, {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: TEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
  });
  const sessionId = init.headers.get('mcp-session-id');
  await init.body?.cancel();
  if (!sessionId) throw new Error(`initialize answered ${init.status}`);
  const initialized = await rawPost(url, token, { jsonrpc: '2.0', method: 'notifications/initialized' }, sessionHeaders(sessionId));
  await initialized.body?.cancel();
  return sessionId;
}

export function sessionHeaders(sessionId: string): Record<string, string> {
  return { 'mcp-session-id': sessionId, 'mcp-protocol-version': TEST_PROTOCOL_VERSION };
}

export interface SseEvent {
  id: string | undefined;
  data: string;
}

export interface EventStreamReader {
  status: number;
  events: SseEvent[];
  /** Resolves once `count` events have arrived in total. */
  received(count: number): Promise<SseEvent[]>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

/** A raw GET stream of a Streamable HTTP session (optionally resuming after `lastEventId`). */
export async function openGetStream(url: string, token: string, sessionId: string, lastEventId?: string): Promise<EventStreamReader> {
  const abort = new AbortController();
  const response = await fetch(url, {
    headers: {
      authorization: `Bearer ${token}`,
      accept: 'text/event-stream',
      ...sessionHeaders(sessionId),
      ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
    },
    signal: abort.signal,
  });
  const events: SseEvent[] = [];
  const waiters: { count: number; resolve: (events: SseEvent[]) => void }[] = [];
  const ended = (async () => {
    if (!response.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        let boundary: number;
        while ((boundary = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary + 2);
          const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n');
          if (!data) continue;
          const id = block.split('\n').find((l) => l.startsWith('id:'))?.slice(3).trim();
          events.push({ id, data });
          for (const waiter of [...waiters]) {
            if (events.length < waiter.count) continue;
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve(events.slice());
          }
        }
      }
    } catch {
      // Aborted by close(), or the connection broke: the stream has ended either way.
    }
  })();
  return {
    status: response.status,
    events,
    received: (count) => (events.length >= count ? Promise.resolve(events.slice()) : new Promise((resolve) => waiters.push({ count, resolve }))),
    ended,
    close: () => abort.abort(),
  };
}
