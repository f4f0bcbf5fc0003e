// `npm run bench`: the gateway against a bare @modelcontextprotocol/sdk server exposing the
// same echo tool, measured side by side in one run (absolute times drift on shared machines;
// ratios measured together do not): the 2025 transports against the v1 SDK, MCP 2026-07-28
// against the v2 SDK's `createMcpHandler`. Writes bench/results/latest.json and docs/performance.md.
//   npm run bench            full run (a few minutes)
//   npm run bench -- --quick  smoke run (seconds; what the test suite runs)
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { runLoad, type Endpoint, type LoadResult, type TransportKind } from './mcp-load';
import { ModernLoad, type ModernEndpoint } from './modern-load';
import { percentile } from './stats';
import { openIdleSessions } from './idle-sessions';
import { measureCluster } from './cluster';
import { measureKeyVerification } from './key-verification';
import type { LimitsBenchResults } from './limits-leases';
import type { RedisCommandsResult } from './redis-commands';
import { measurePlatform, type PlatformRow } from './platform';
import { writeReport, type BenchResults, type LoadRow, type MemoryRow, type ModernRow } from './report';
import { BENCH_TENANT, seedWorld } from './seed';
import { freePort, waitForHttp } from '@switchboard/testing';
import { cpuMicros, delay, startServer, type ServerProcess } from './server-process';

const QUICK = process.argv.includes('--quick');
const LOAD_MS = QUICK ? 400 : 4_000;
const CONCURRENCY = [1, 16];
const IDLE_COUNTS = QUICK ? [50] : [1_000, 10_000];
const TRANSPORTS: TransportKind[] = ['sse', 'streamable-http'];
/** 2026-07-28 rounds per measurement, gateway and baseline alternating (LOAD_MS split among them). */
const MODERN_ROUNDS = QUICK ? 1 : 4;
/** High enough never to refuse, so the limiter runs its checks without changing the result. */
const UNREFUSING_LIMIT = '1000000000';
const SETTLE_TIMEOUT_MS = 30_000;
/** Probes a second apart with no fall of 1% or more before the heap counts as settled. */
const SETTLED_PROBES = 3;
/** Issue 16's whole-platform figure: calls/s at 8 sessions with Redis and the API's usage worker running too. */
const PLATFORM_SESSIONS = 8;
const PLATFORM_ROUNDS = QUICK ? 2 : 4;
const REDIS_URL = process.env['BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const ROOT = path.resolve(__dirname, '../../..');

type Target = 'gateway' | 'baseline';
/** The servers of the run: the two 2025 targets and the v2 SDK's bare `createMcpHandler`. */
type Server = Target | 'modernBaseline';

async function main(): Promise<void> {
  const started = new Date();
  const world = await seedWorld();
  const servers: Partial<Record<Server, ServerProcess>> = {};
  try {
    const listening = (line: string) => {
      const match = /^listening (\d+)$/.exec(line);
      return match ? `http://127.0.0.1:${match[1]}` : undefined;
    };
    servers.baseline = await startServer('dist/bench/src/baseline-server.js', ['0'], {}, listening);
    servers.modernBaseline = await startServer('dist/bench/src/modern-baseline-server.js', ['0'], {}, listening);
    const gatewayPort = await freePort();
    servers.gateway = await startServer(
      'dist/apps/gateway/src/main.js',
      [],
      {
        ...world.gatewayEnv,
        REDIS_URL: REDIS_URL,
        GATEWAY_PORT: String(gatewayPort),
        GATEWAY_METRICS_PORT: '0',
        NODE_ID: `bench-${process.pid}`,
        LIMIT_REQUESTS_PER_MINUTE: UNREFUSING_LIMIT,
        LIMIT_TOOL_CALLS_PER_MINUTE: UNREFUSING_LIMIT,
        LIMIT_CONCURRENT_SESSIONS: UNREFUSING_LIMIT,
        LIMIT_CONCURRENT_TOOL_CALLS: UNREFUSING_LIMIT,
        MAX_SESSIONS_PER_NODE: '50000',
      },
      // Ready when it listens; its logs (production level: info) are read and dropped.
      (line) => (line.includes('gateway listening') ? `http://127.0.0.1:${gatewayPort}` : undefined),
    );
    await waitForHttp(`${servers.gateway.url}/healthz`);
    const endpoints = (target: Target, kind: TransportKind): Endpoint => {
      const origin = servers[target]!.url;
      return target === 'gateway'
        ? { url: `${origin}/t/${BENCH_TENANT}/p/echo/${kind === 'sse' ? 'sse' : 'mcp'}`, kind, tool: 'echo', authorization: `Bearer ${world.token}` }
        : { url: `${origin}/${kind === 'sse' ? 'sse' : 'mcp'}`, kind, tool: 'echo' };
    };

    const load: LoadRow[] = [];
    for (const kind of TRANSPORTS) {
      for (const sessions of CONCURRENCY) {
        // Alternate which server goes first so neither always runs on a warmer machine.
        for (const target of sessions === 1 ? (['baseline', 'gateway'] as const) : (['gateway', 'baseline'] as const)) {
          const result = await measured(servers[target]!, (hooks) => runLoad(endpoints(target, kind), sessions, LOAD_MS, hooks));
          load.push({ target, transport: kind, sessions, ...result });
          log(`${target} ${kind} x${sessions}: ${result.callsPerSecond.toFixed(0)} calls/s, p50 ${result.p50Ms.toFixed(3)} ms, p99 ${result.p99Ms.toFixed(3)} ms, errors ${result.errors}`);
        }
      }
    }

    // MCP 2026-07-28: the same echo call, stateless, by hand-written POSTs to both servers.
    const modern: ModernRow[] = [];
    for (const connections of CONCURRENCY) {
      const targets: ModernTarget[] = [
        { target: 'gateway', server: servers.gateway, endpoint: { url: `${servers.gateway.url}/t/${BENCH_TENANT}/p/echo/mcp`, tool: 'echo', authorization: `Bearer ${world.token}` } },
        { target: 'baseline', server: servers.modernBaseline, endpoint: { url: `${servers.modernBaseline.url}/mcp`, tool: 'echo' } },
      ];
      for (const row of await measureModern(targets, connections)) {
        modern.push(row);
        log(`${row.target} 2026-07-28 x${connections}: ${row.callsPerSecond.toFixed(0)} calls/s, p50 ${row.p50Ms.toFixed(3)} ms, p99 ${row.p99Ms.toFixed(3)} ms, ${row.cpuMicrosPerCall.toFixed(0)} µs CPU/call, errors ${row.errors}`);
      }
    }

    const memory: MemoryRow[] = [];
    for (const count of IDLE_COUNTS) {
      for (const target of ['baseline', 'gateway'] as const) {
        memory.push(await measureIdleMemory(target, servers[target]!, count, world.token));
        const row = memory[memory.length - 1];
        log(`${target} ${count} idle SSE sessions: ${(row.rssPerSession / 1024).toFixed(1)} KB RSS, ${(row.heapPerSession / 1024).toFixed(1)} KB heap per session; after close ${(100 * row.heapAfterRatio).toFixed(0)}% of the start heap`);
      }
    }

    const platform: PlatformRow[] = await measurePlatform(world, (target) => endpoints(target, 'streamable-http'), {
      redisUrl: REDIS_URL,
      sessions: PLATFORM_SESSIONS,
      rounds: PLATFORM_ROUNDS,
      roundMs: LOAD_MS / 2,
      log,
    });
    for (const row of platform) log(`platform ${row.target} x${row.sessions}: ${row.callsPerSecond.toFixed(0)} calls/s, errors ${row.errors}`);

    // The single node is stopped first: the cluster measurement starts its own two nodes.
    await servers.gateway.stop();
    const cluster = await measureCluster(world, {
      quick: QUICK,
      log: (row) => log(`cluster ${row.transport} x${row.sessions} ${row.placement}: p50 ${row.p50Ms} ms, ${row.callsPerSecond} calls/s, ${row.cpuMicrosPerCall} µs CPU/call, ${row.redisCommandsPerCall} Redis commands and ${row.forwardedPerCall} forwarded messages per call`),
    });

    const keyVerification = await measureKeyVerification(world);
    log(`key verification: hit ${keyVerification.hitMicros.toFixed(2)} µs, miss ${keyVerification.missMicros.toFixed(0)} µs`);

    // Limits (Redis commands per call, exactness over 3 nodes) and tracing on vs off are their own
    // scripts (npm run bench:limits, bench:tracing); run here so one run publishes every figure.
    const limits = await childBench<LimitsBenchResults>('limits-leases.js', QUICK ? ['--quick'] : []);
    log(`limits: ${limits.commandsPerCall.map((row) => `${row.leasesOn.toFixed(3)}`).join(', ')} Redis commands per call with leases; admitted ${limits.admitted.map((row) => row.leasesOn).join(', ')} of ${limits.limit}`);
    // Every Redis command per tool call of a whole gateway, as issue 16 counts them (private Redis).
    const redisCommands = await childBench<{ sessions: number; transport: string; results: RedisCommandsResult[] }>('redis-commands.js', QUICK ? ['--seconds=1'] : []);
    log(`redis commands per call: ${redisCommands.results.map((row) => `${row.configuration} ${row.totalPerCall.toFixed(2)}`).join('; ')}`);
    // Tracing needs two more gateways for a minute; the quick run leaves it out.
    const tracing = QUICK ? undefined : await childBench<TracingBenchResults>('tracing.js', [], path.join(ROOT, 'bench/results/tracing.json'));

    const results: BenchResults = {
      startedAt: started.toISOString(),
      quick: QUICK,
      loadSeconds: LOAD_MS / 1000,
      modernRounds: MODERN_ROUNDS,
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? 'unknown',
        memoryGiB: Math.round(os.totalmem() / 2 ** 30),
        node: process.version,
        platform: `${os.type()} ${os.release()}`,
      },
      load,
      modern,
      memory,
      cluster,
      platform,
      keyVerification,
      limits,
      redisCommands,
      ...(tracing ? { tracing } : {}),
    };
    const printed = writeReport(results, { publish: !QUICK });
    process.stdout.write(printed);
  } finally {
    await Promise.all(Object.values(servers).map((server) => server!.stop()));
    await world.close();
  }
}

type TracingBenchResults = NonNullable<BenchResults['tracing']>;

/**
 * Runs another bench script as its own process (each starts and ends what it measures) and reads
 * the JSON it writes: to `--json=<file>` in a scratch directory, or to `writes` when the script
 * has a fixed results file.
 */
async function childBench<R>(script: string, args: string[], writes?: string): Promise<R> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sb-bench-'));
  const out = writes ?? path.join(dir, 'results.json');
  try {
    await promisify(execFile)(process.execPath, [path.join(ROOT, 'dist/bench/src', script), ...args, ...(writes ? [] : [`--json=${out}`])], {
      cwd: ROOT,
      maxBuffer: 16 * 1024 * 1024,
    });
    return JSON.parse(readFileSync(out, 'utf8')) as R;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface ModernTarget {
  target: ModernRow['target'];
  server: ServerProcess;
  endpoint: ModernEndpoint;
}

/**
 * The gateway and bare createMcpHandler in interleaved rounds (first one, then the other, the
 * order swapped each round), so drift on a shared machine hits both alike; CPU probed around
 * each round. Any wrong answer fails the run.
 */
async function measureModern(targets: ModernTarget[], connections: number): Promise<ModernRow[]> {
  const loads = targets.map((t) => ({ ...t, load: new ModernLoad([t.endpoint], connections), latencies: [] as number[], seconds: 0, cpu: 0 }));
  try {
    for (const t of loads) await t.load.warmUp();
    for (let round = 0; round < MODERN_ROUNDS; round++) {
      for (const t of round % 2 === 0 ? loads : [...loads].reverse()) {
        const before = await t.server.probe();
        const sample = await t.load.run(LOAD_MS / MODERN_ROUNDS);
        const after = await t.server.probe();
        if (sample.errors > 0) throw new Error(`2026-07-28 ${t.target} x${connections}: ${sample.errors} wrong answers, first: ${t.load.firstError}`);
        t.latencies.push(...sample.latencies);
        t.seconds += sample.seconds;
        t.cpu += cpuMicros(before, after);
      }
    }
    return loads.map((t) => ({
      target: t.target,
      connections,
      calls: t.latencies.length,
      errors: 0,
      seconds: t.seconds,
      callsPerSecond: t.latencies.length / t.seconds,
      p50Ms: percentile(t.latencies, 50),
      p99Ms: percentile(t.latencies, 99),
      cpuMicrosPerCall: t.cpu / t.latencies.length,
    }));
  } finally {
    await Promise.all(loads.map((t) => t.load.close()));
  }
}

/** Runs `load` with CPU probes of `server` around its timed stretch, the same for every target. */
async function measured<R extends LoadResult>(
  server: ServerProcess,
  load: (hooks: { beforeMeasure: () => Promise<void>; afterMeasure: () => Promise<void> }) => Promise<R>,
): Promise<R & { cpuMicrosPerCall: number }> {
  let before!: Awaited<ReturnType<ServerProcess['probe']>>;
  let after!: typeof before;
  const result = await load({
    beforeMeasure: async () => void (before = await server.probe()),
    afterMeasure: async () => void (after = await server.probe()),
  });
  return { ...result, cpuMicrosPerCall: cpuMicros(before, after) / result.calls };
}

async function measureIdleMemory(target: Target, server: ServerProcess, count: number, token: string): Promise<MemoryRow> {
  const url = new URL(server.url);
  const start = await server.probe();
  const sessions = await openIdleSessions(
    target === 'gateway'
      ? { origin: url.origin, ssePath: `/t/${BENCH_TENANT}/p/echo/sse`, authorization: `Bearer ${token}` }
      : { origin: url.origin, ssePath: '/sse' },
    count,
  );
  const open = await server.probe();
  await sessions.close();
  const after = await settle(server, start.memory.heapUsed);
  const live = (probe: typeof start) => probe.memory.heapUsed + probe.memory.external;
  return {
    target,
    sessions: sessions.opened,
    rssPerSession: (open.memory.rss - start.memory.rss) / count,
    heapPerSession: (live(open) - live(start)) / count,
    heapAfterRatio: live(after) / live(start),
    rssAfterRatio: after.memory.rss / start.memory.rss,
  };
}

/**
 * Probes until the heap is back near where it started, or has stopped falling for a while: closing
 * 10,000 sessions takes the gateway seconds, and a heap that did not fall between two probes half a
 * second apart was often still being freed (one early run read 439% where 112% was the end state).
 */
async function settle(server: ServerProcess, startHeap: number) {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  let probe = await server.probe();
  let flat = 0;
  while (Date.now() < deadline && probe.memory.heapUsed > startHeap * 1.05 && flat < SETTLED_PROBES) {
    await delay(1_000);
    const next = await server.probe();
    flat = next.memory.heapUsed >= probe.memory.heapUsed * 0.99 ? flat + 1 : 0;
    probe = next;
  }
  return probe;
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
