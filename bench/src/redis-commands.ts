// `npm run build && node dist/bench/src/redis-commands.js`: every Redis command one gateway costs
// per tool call, as issue 16 counts them: a private redis-server on a loopback port (so INFO
// commandstats sees only this run; commands run inside Lua scripts count too), one gateway
// process from dist/, 16 MCP SDK sessions calling the echo tool, limits far from exhaustion.
// Per configuration: the commands per call, by command, and the total. The gateway and the
// redis-server are ended by pid at the end.
//   --sessions=16          concurrent SDK sessions (one tool call at a time each)
//   --seconds=6            measured seconds per configuration
//   --transport=sse        legacy SSE instead of Streamable HTTP
//   --json=<file>          also writes the figures as JSON
import { writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { waitForHttp, freePort } from '@switchboard/testing';
import { runLoad, type TransportKind } from './mcp-load';
import { commandStats, startPrivateRedis } from './private-redis';
import { BENCH_TENANT, seedWorld } from './seed';
import { delay, startServer } from './server-process';

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const SESSIONS = Number(arg('sessions') ?? 16);
const SECONDS = Number(arg('seconds') ?? 6);
const TRANSPORT: TransportKind = arg('transport') === 'sse' ? 'sse' : 'streamable-http';
const JSON_OUT = arg('json');
/** Far from exhaustion: no limit is reached in a run. */
const FAR = '1000000000';
/** After the last call: releases, slot returns and the usage sink's last linger go out. */
const SETTLE_MS = 1_500;

interface Configuration {
  name: string;
  env: Record<string, string>;
}

const configurations: Configuration[] = [
  { name: 'per call (LIMITS_LEASES=false, USAGE_FLUSH_INTERVAL_MS=0)', env: { LIMITS_LEASES: 'false', USAGE_FLUSH_INTERVAL_MS: '0' } },
  { name: 'leased blocks, usage sent at once (USAGE_FLUSH_INTERVAL_MS=0)', env: { USAGE_FLUSH_INTERVAL_MS: '0' } },
  { name: 'defaults (leased blocks, usage linger)', env: {} },
];

export interface RedisCommandsResult {
  configuration: string;
  calls: number;
  callsPerSecond: number;
  perCall: Record<string, number>;
  totalPerCall: number;
}

async function measure(redisUrl: string, admin: Redis, world: Awaited<ReturnType<typeof seedWorld>>, configuration: Configuration): Promise<RedisCommandsResult> {
  const port = await freePort();
  const gateway = await startServer(
    'dist/apps/gateway/src/main.js',
    [],
    {
      ...world.gatewayEnv,
      REDIS_URL: redisUrl,
      GATEWAY_PORT: String(port),
      GATEWAY_METRICS_PORT: '0',
      NODE_ID: `redis-commands-${process.pid}`,
      LIMIT_REQUESTS_PER_MINUTE: FAR,
      LIMIT_TOOL_CALLS_PER_MINUTE: FAR,
      LIMIT_CONCURRENT_SESSIONS: FAR,
      LIMIT_CONCURRENT_TOOL_CALLS: FAR,
      ...configuration.env,
    },
    (line) => (line.includes('gateway listening') ? `http://127.0.0.1:${port}` : undefined),
  );
  try {
    await waitForHttp(`${gateway.url}/healthz`);
    const endpoint = { url: `${gateway.url}/t/${BENCH_TENANT}/p/echo/${TRANSPORT === 'sse' ? 'sse' : 'mcp'}`, kind: TRANSPORT, tool: 'echo', authorization: `Bearer ${world.token}` };
    let stats = new Map<string, number>();
    const load = await runLoad(endpoint, SESSIONS, SECONDS * 1_000, {
      beforeMeasure: async () => {
        await delay(SETTLE_MS); // the warm-up's usage and releases are out before counting starts
        await admin.config('RESETSTAT');
      },
      afterMeasure: async () => {
        await delay(SETTLE_MS);
        stats = await commandStats(admin);
      },
    });
    if (load.errors > 0) throw new Error(`${load.errors} tool calls failed`);
    const perCall: Record<string, number> = {};
    let total = 0;
    for (const [name, calls] of [...stats].sort((a, b) => b[1] - a[1])) {
      if (name.startsWith('config')) continue; // the RESETSTAT itself
      perCall[name] = calls / load.calls;
      total += calls;
    }
    return { configuration: configuration.name, calls: load.calls, callsPerSecond: load.callsPerSecond, perCall, totalPerCall: total / load.calls };
  } finally {
    await gateway.stop();
  }
}

async function main(): Promise<void> {
  const redis = await startPrivateRedis();
  const admin = new Redis(redis.url);
  const world = await seedWorld();
  const results: RedisCommandsResult[] = [];
  try {
    for (const configuration of configurations) {
      const result = await measure(redis.url, admin, world, configuration);
      results.push(result);
      console.log(`\n${result.configuration}: ${result.calls} calls, ${result.callsPerSecond.toFixed(0)}/s, ${SESSIONS} ${TRANSPORT} sessions`);
      console.log('| Command | per tool call |');
      console.log('|---|---|');
      for (const [name, perCall] of Object.entries(result.perCall)) if (perCall >= 0.0005) console.log(`| ${name} | ${perCall.toFixed(3)} |`);
      console.log(`| **total** | **${result.totalPerCall.toFixed(3)}** |`);
    }
    if (JSON_OUT) writeFileSync(JSON_OUT, `${JSON.stringify({ sessions: SESSIONS, seconds: SECONDS, transport: TRANSPORT, results }, null, 2)}\n`);
  } finally {
    admin.disconnect();
    await redis.stop();
    await world.close();
  }
}

// Ends the process itself: after a failure, open connections would keep it alive.
main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
