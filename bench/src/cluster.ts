// `npm run bench:cluster`: what crossing nodes costs. Two gateway processes over one Redis; the
// echo tool called with the official SDK client, every session once with all requests on the
// node that holds it (same-node) and once with its POSTs sent to the other node (cross-node),
// for both transports. Also counts the Redis commands each forwarded message costs, from
// INFO commandstats deltas. MCP 2026-07-28 has no session to hold: its calls go all to one node
// or alternately to both, and the nodes' own forwarded-message counter must not move.
// Loopback only; a few seconds per measurement.
import { setMaxListeners } from 'node:events';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Redis } from 'ioredis';
import { BENCH_TENANT, seedWorld, type BenchWorld } from './seed';
import { freePort, waitForHttp } from '@switchboard/testing';
import { MODERN_PROTOCOL_VERSION, ModernLoad } from './modern-load';
import { cpuMicros, startServer, type ServerProcess } from './server-process';
import { percentile, round } from './stats';

// Thousands of requests per session add abort listeners to one long-lived signal in the SDK client.
setMaxListeners(0);

/** Same-node and cross-node load alternate in rounds, so drift on a shared machine hits both alike. */
let ROUNDS = 4;
let ROUND_MS = 1_000;
const WARMUP_CALLS = 200;
const CONCURRENCY = [1, 16];
/** High enough never to refuse: limits run their checks without changing the result. */
const UNREFUSING_LIMIT = '1000000000';
const REDIS_URL = 'redis://127.0.0.1:6379';

type Transport = 'sse' | 'streamable-http';
type Placement = 'same-node' | 'cross-node';
type ClusterTransport = Transport | typeof MODERN_PROTOCOL_VERSION;

export interface ClusterRow {
  transport: ClusterTransport;
  placement: Placement;
  sessions: number;
  calls: number;
  errors: number;
  callsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Redis commands per call, all of them (limits and metering included), from INFO commandstats. */
  redisCommandsPerCall: number;
  publishesPerCall: number;
  /** Server CPU of both nodes together, per call. */
  cpuMicrosPerCall: number;
  /** Messages a node handed to another node (`switchboard_gateway_messages_total{route="forwarded"}`). */
  forwarded: number;
  forwardedPerCall: number;
}

/**
 * A client whose requests for an existing session go to `postOrigin` (the other node) while
 * the stream and the initialize request go to the session's own node.
 */
async function connect(origin: string, postOrigin: string, token: string, transport: Transport): Promise<Client> {
  const rewrite: typeof fetch = (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set('authorization', `Bearer ${token}`);
    let target = String(input instanceof Request ? input.url : input);
    const forExistingSession = transport === 'sse' || headers.has('mcp-session-id');
    if (init?.method === 'POST' && forExistingSession) {
      const url = new URL(target);
      url.host = new URL(postOrigin).host;
      target = url.toString();
    }
    return fetch(target, { ...init, headers });
  };
  const url = new URL(`${origin}/t/${BENCH_TENANT}/p/echo/${transport === 'sse' ? 'sse' : 'mcp'}`);
  const client = new Client({ name: 'bench-cluster', version: '1.0.0' });
  await client.connect(
    transport === 'sse' ? new SSEClientTransport(url, { eventSourceInit: { fetch: rewrite }, fetch: rewrite }) : new StreamableHTTPClientTransport(url, { fetch: rewrite }),
  );
  return client;
}

async function commandStats(redis: Redis): Promise<{ total: number; publish: number }> {
  const info = await redis.info('commandstats');
  let total = 0;
  let publish = 0;
  for (const match of info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) {
    // The measuring connection's own INFO calls are not the gateways'.
    if (match[1] === 'info') continue;
    total += Number(match[2]);
    if (match[1] === 'publish') publish += Number(match[2]);
  }
  return { total, publish };
}

interface Phase {
  placement: Placement;
  /** One timed stretch of calls, back to back until `ms` have passed. */
  drive(ms: number): Promise<{ latencies: number[]; errors: number }>;
  close(): Promise<void>;
  latencies: number[];
  errors: number;
  seconds: number;
  commands: number;
  publishes: number;
  forwarded: number;
  cpuMicros: number;
}

/** A gateway node of the pair, with the metrics endpoint that tells what it forwarded. */
interface Node {
  server: ServerProcess;
  metricsUrl: string;
}

function newPhase(placement: Placement, drive: Phase['drive'], close: Phase['close']): Phase {
  return { placement, drive, close, latencies: [], errors: 0, seconds: 0, commands: 0, publishes: 0, forwarded: 0, cpuMicros: 0 };
}

/** A 2025 placement: sessions opened on node A, their POSTs sent to A or to B. */
async function sessionPhase(nodes: Node[], token: string, transport: Transport, sessions: number, placement: Placement): Promise<Phase> {
  const [home, other] = nodes as [Node, Node];
  const postOrigin = placement === 'same-node' ? home.server.url : other.server.url;
  const clients: Client[] = [];
  const close = () =>
    Promise.all(
      clients.map(async (client) => {
        if (client.transport instanceof StreamableHTTPClientTransport) await client.transport.terminateSession().catch(() => undefined);
        await client.close().catch(() => undefined);
      }),
    ).then(() => undefined);
  try {
    clients.push(...(await Promise.all(Array.from({ length: sessions }, () => connect(home.server.url, postOrigin, token, transport)))));
    await Promise.all(
      clients.map(async (client) => {
        for (let i = 0; i < Math.ceil(WARMUP_CALLS / sessions); i++) await client.callTool({ name: 'echo', arguments: { text: 'warm' } });
      }),
    );
  } catch (error) {
    await close();
    throw error;
  }
  const drive = async (ms: number) => {
    const latencies: number[] = [];
    let errors = 0;
    const deadline = performance.now() + ms;
    await Promise.all(
      clients.map(async (client, i) => {
        while (performance.now() < deadline) {
          const t0 = performance.now();
          try {
            const result = await client.callTool({ name: 'echo', arguments: { text: `hello ${i}` } });
            if (result.isError) errors++;
            else latencies.push(performance.now() - t0);
          } catch {
            errors++;
          }
        }
      }),
    );
    return { latencies, errors };
  };
  return newPhase(placement, drive, close);
}

/** A 2026-07-28 placement: no session, every call to node A, or alternately to A and B. */
async function modernPhase(nodes: Node[], token: string, connections: number, placement: Placement): Promise<Phase> {
  const targets = placement === 'same-node' ? nodes.slice(0, 1) : nodes;
  const load = new ModernLoad(
    targets.map((node) => ({ url: `${node.server.url}/t/${BENCH_TENANT}/p/echo/mcp`, tool: 'echo', authorization: `Bearer ${token}` })),
    connections,
  );
  try {
    await load.warmUp(WARMUP_CALLS);
  } catch (error) {
    await load.close();
    throw error;
  }
  const drive = async (ms: number) => {
    const { latencies, errors } = await load.run(ms);
    if (errors > 0) throw new Error(`${MODERN_PROTOCOL_VERSION} ${placement} x${connections}: ${errors} wrong answers, first: ${load.firstError}`);
    return { latencies, errors };
  };
  return newPhase(placement, drive, () => load.close());
}

/** Both placements for one transport and concurrency, their load phases interleaved. */
async function measurePair(nodes: Node[], token: string, redis: Redis, transport: ClusterTransport, sessions: number): Promise<ClusterRow[]> {
  const phases: Phase[] = [];
  try {
    for (const placement of ['same-node', 'cross-node'] as const) {
      phases.push(transport === MODERN_PROTOCOL_VERSION ? await modernPhase(nodes, token, sessions, placement) : await sessionPhase(nodes, token, transport, sessions, placement));
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const phase of phases) await runPhase(phase, nodes, redis);
    }
    return phases.map((phase) => {
      const calls = phase.latencies.length + phase.errors;
      return {
        transport,
        placement: phase.placement,
        sessions,
        calls: phase.latencies.length,
        errors: phase.errors,
        callsPerSecond: round(phase.latencies.length / phase.seconds, 1),
        p50Ms: round(percentile(phase.latencies, 50)),
        p99Ms: round(percentile(phase.latencies, 99)),
        cpuMicrosPerCall: round(phase.cpuMicros / calls, 1),
        redisCommandsPerCall: round(phase.commands / calls, 2),
        publishesPerCall: round(phase.publishes / calls, 2),
        forwarded: phase.forwarded,
        forwardedPerCall: round(phase.forwarded / calls, 2),
      };
    });
  } finally {
    for (const phase of phases) await phase.close();
  }
}

/** Messages the nodes answered for another node, from their own metrics. */
async function forwardedMessages(nodes: Node[]): Promise<number> {
  let total = 0;
  for (const node of nodes) {
    const text = await (await fetch(node.metricsUrl)).text();
    for (const match of text.matchAll(/^switchboard_gateway_messages_total\{[^}]*route="forwarded"[^}]*\} (\d+)/gm)) total += Number(match[1]);
  }
  return total;
}

async function runPhase(phase: Phase, nodes: Node[], redis: Redis): Promise<void> {
  const probes = () => Promise.all(nodes.map((node) => node.server.probe()));
  const before = { redis: await commandStats(redis), forwarded: await forwardedMessages(nodes), cpu: await probes() };
  const started = performance.now();
  const { latencies, errors } = await phase.drive(ROUND_MS);
  phase.seconds += (performance.now() - started) / 1000;
  const after = { cpu: await probes(), forwarded: await forwardedMessages(nodes), redis: await commandStats(redis) };
  for (const latency of latencies) phase.latencies.push(latency);
  phase.errors += errors;
  phase.commands += after.redis.total - before.redis.total;
  phase.publishes += after.redis.publish - before.redis.publish;
  phase.forwarded += after.forwarded - before.forwarded;
  phase.cpuMicros += after.cpu.reduce((sum, probe, i) => sum + cpuMicros(before.cpu[i], probe), 0);
}

/**
 * Two gateway nodes on one Redis: the same calls with the POSTs on the session's own node and
 * on the other node. Used by `npm run bench` (bench/src/run.ts) and `npm run bench:cluster`.
 */
export async function measureCluster(world: BenchWorld, options: { quick: boolean; log?: (row: ClusterRow) => void }): Promise<ClusterRow[]> {
  ROUNDS = options.quick ? 1 : 4;
  ROUND_MS = options.quick ? 500 : 1_000;
  const redis = new Redis(REDIS_URL);
  const nodes: Node[] = [];
  const prefix = `sbbench-${process.pid}`;
  try {
    for (const index of [0, 1]) {
      const port = await freePort();
      const metricsPort = await freePort();
      const server = await startServer(
        'dist/apps/gateway/src/main.js',
        [],
        {
          ...world.gatewayEnv,
          REDIS_URL,
          REDIS_PREFIX: prefix,
          NODE_ID: `bench-${process.pid}-${index}`,
          GATEWAY_PORT: String(port),
          GATEWAY_METRICS_PORT: String(metricsPort),
          GATEWAY_METRICS_HOST: '127.0.0.1',
          LIMIT_REQUESTS_PER_MINUTE: UNREFUSING_LIMIT,
          LIMIT_TOOL_CALLS_PER_MINUTE: UNREFUSING_LIMIT,
          LIMIT_CONCURRENT_SESSIONS: UNREFUSING_LIMIT,
          LIMIT_CONCURRENT_TOOL_CALLS: UNREFUSING_LIMIT,
        },
        (line) => (line.includes('gateway listening') ? `http://127.0.0.1:${port}` : undefined),
      );
      nodes.push({ server, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics` });
      await waitForHttp(`${server.url}/healthz`);
    }
    const rows: ClusterRow[] = [];
    for (const transport of ['sse', 'streamable-http', MODERN_PROTOCOL_VERSION] as const) {
      for (const sessions of CONCURRENCY) {
        for (const row of await measurePair(nodes, world.token, redis, transport, sessions)) {
          rows.push(row);
          options.log?.(row);
        }
      }
    }
    return rows;
  } finally {
    await Promise.all(nodes.map((node) => node.server.stop()));
    const leftovers = await redis.keys(`${prefix}:*`);
    if (leftovers.length > 0) await redis.del(...leftovers);
    redis.disconnect();
  }
}

async function main(): Promise<void> {
  const world = await seedWorld();
  try {
    const rows = await measureCluster(world, { quick: process.argv.includes('--quick'), log: (row) => process.stdout.write(`${JSON.stringify(row)}\n`) });
    process.stdout.write(`\n${clusterTable(rows)}\n`);
  } finally {
    await world.close();
  }
}

/** Markdown table of same-node vs cross-node rows with the deltas. */
export function clusterTable(rows: ClusterRow[]): string {
  const lines = [
    '| transport | sessions | placement | p50 ms | p99 ms | calls/s | CPU µs/call (both nodes) | Redis cmds/call | of which PUBLISH | forwarded/call | Δp50 vs same-node | Δcmds vs same-node |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const row of rows) {
    const same = rows.find((r) => r.transport === row.transport && r.sessions === row.sessions && r.placement === 'same-node')!;
    const cross = row.placement === 'cross-node';
    lines.push(
      `| ${row.transport} | ${row.sessions} | ${row.placement} | ${row.p50Ms} | ${row.p99Ms} | ${row.callsPerSecond} | ${row.cpuMicrosPerCall} | ${row.redisCommandsPerCall} | ${row.publishesPerCall} | ${row.forwardedPerCall} | ${cross ? signed(round(row.p50Ms - same.p50Ms)) : ''} | ${cross ? signed(round(row.redisCommandsPerCall - same.redisCommandsPerCall, 2)) : ''} |`,
    );
  }
  return lines.join('\n');
}

const signed = (n: number) => (n >= 0 ? `+${n}` : String(n));

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error: Error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
