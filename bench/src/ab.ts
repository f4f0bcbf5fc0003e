// Before/after of one change, side by side in one run: two gateway builds (two copies of dist/)
// over the same database and Redis, driven in alternating rounds (the order swapped each round)
// so a shared machine's drift hits both alike. Prints gateway CPU per call for each and the
// median over rounds of after/before measured back to back.
//   node dist/bench/src/ab.js --before=dist/before --after=dist [--transports=sse,streamable-http,2026-07-28]
//                              [--rounds=6] [--seconds=2] [--sessions=16] [--tracing]
// `--tracing` runs both with tracing on (every trace sampled, OTLP to a loopback sink).
// Make the "before" copy from a build of the old code: `cp -r dist dist/before` before the change
// (both paths are relative to the repository root).
import { freePort, waitForHttp } from '@switchboard/testing';
import { runLoad, type TransportKind } from './mcp-load';
import { ModernLoad } from './modern-load';
import { startOtlpSink } from './otlp-sink';
import { BENCH_TENANT, seedWorld, type BenchWorld } from './seed';
import { cpuMicros, startServer, type Probe, type ServerProcess } from './server-process';
import { median, round } from './stats';

type AbTransport = TransportKind | '2026-07-28';
type Side = 'before' | 'after';

const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const BUILDS: Record<Side, string> = { before: arg('before') ?? 'dist/before', after: arg('after') ?? 'dist' };
const TRANSPORTS = (arg('transports')?.split(',') ?? ['sse', 'streamable-http', '2026-07-28']) as AbTransport[];
const ROUNDS = Number(arg('rounds') ?? 6);
const ROUND_MS = Number(arg('seconds') ?? 2) * 1000;
const SESSIONS = Number(arg('sessions') ?? 16);
const TRACING = process.argv.includes('--tracing');
const UNREFUSING_LIMIT = '1000000000';

async function main(): Promise<void> {
  const world = await seedWorld();
  const sink = TRACING ? await startOtlpSink() : undefined;
  const gateways: Partial<Record<Side, ServerProcess>> = {};
  try {
    for (const side of ['before', 'after'] as const) gateways[side] = await startGateway(world, side, sink?.url);
    const lines = [
      `Before/after, ${SESSIONS} sessions, ${ROUNDS} alternating rounds of ${ROUND_MS / 1000} s${TRACING ? ', tracing on (100%)' : ''}, ${new Date().toISOString()}.`,
      `Command: \`node dist/bench/src/ab.js ${process.argv.slice(2).join(' ')}\` (before: ${BUILDS.before}, after: ${BUILDS.after}).`,
      '',
      '| transport | before µs/call | after µs/call | after / before (totals) | after / before (median of rounds) | rounds after < before |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
    ];
    for (const transport of TRANSPORTS) {
      const totals = { before: { calls: 0, cpu: 0 }, after: { calls: 0, cpu: 0 } };
      const ratios: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const perCall: Partial<Record<Side, number>> = {};
        for (const side of r % 2 === 0 ? (['before', 'after'] as const) : (['after', 'before'] as const)) {
          const { calls, cpu } = await measure(gateways[side]!, world, transport);
          totals[side].calls += calls;
          totals[side].cpu += cpu;
          perCall[side] = cpu / calls;
        }
        ratios.push(perCall.after! / perCall.before!);
      }
      const before = totals.before.cpu / totals.before.calls;
      const after = totals.after.cpu / totals.after.calls;
      lines.push(`| ${transport} | ${round(before, 1)} | ${round(after, 1)} | ${round(after / before, 3)} | ${round(median(ratios), 3)} | ${ratios.filter((x) => x < 1).length} of ${ROUNDS} |`);
      process.stderr.write(`${lines.at(-1)}\n`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await Promise.all(Object.values(gateways).map((gateway) => gateway!.stop()));
    await sink?.close();
    await world.close();
  }
}

/** One timed round at `server`: calls answered and the process's CPU µs over them. */
async function measure(server: ServerProcess, world: BenchWorld, transport: AbTransport): Promise<{ calls: number; cpu: number }> {
  let before!: Probe;
  let after!: Probe;
  if (transport === '2026-07-28') {
    const load = new ModernLoad([{ url: `${server.url}/t/${BENCH_TENANT}/p/echo/mcp`, tool: 'echo', authorization: `Bearer ${world.token}` }], SESSIONS);
    try {
      await load.warmUp();
      before = await server.probe();
      const sample = await load.run(ROUND_MS);
      after = await server.probe();
      if (sample.errors > 0) throw new Error(`2026-07-28: ${sample.errors} errors, first: ${load.firstError}`);
      return { calls: sample.latencies.length, cpu: cpuMicros(before, after) };
    } finally {
      await load.close();
    }
  }
  const endpoint = { url: `${server.url}/t/${BENCH_TENANT}/p/echo/${transport === 'sse' ? 'sse' : 'mcp'}`, kind: transport, tool: 'echo', authorization: `Bearer ${world.token}` };
  const result = await runLoad(endpoint, SESSIONS, ROUND_MS, {
    beforeMeasure: async () => void (before = await server.probe()),
    afterMeasure: async () => void (after = await server.probe()),
  });
  if (result.errors > 0) throw new Error(`${transport}: ${result.errors} errors`);
  return { calls: result.calls, cpu: cpuMicros(before, after) };
}

async function startGateway(world: BenchWorld, side: Side, tracesUrl: string | undefined): Promise<ServerProcess> {
  const port = await freePort();
  const server = await startServer(
    `${BUILDS[side]}/apps/gateway/src/main.js`,
    [],
    {
      ...world.gatewayEnv,
      REDIS_URL: process.env['BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379',
      GATEWAY_PORT: String(port),
      GATEWAY_METRICS_PORT: '0',
      NODE_ID: `bench-ab-${side}-${process.pid}`,
      LIMIT_REQUESTS_PER_MINUTE: UNREFUSING_LIMIT,
      LIMIT_TOOL_CALLS_PER_MINUTE: UNREFUSING_LIMIT,
      LIMIT_CONCURRENT_SESSIONS: UNREFUSING_LIMIT,
      LIMIT_CONCURRENT_TOOL_CALLS: UNREFUSING_LIMIT,
      ...(tracesUrl ? { OTEL_EXPORTER_OTLP_ENDPOINT: tracesUrl, OTEL_TRACES_SAMPLER_ARG: '1' } : {}),
    },
    (line) => (line.includes('gateway listening') ? `http://127.0.0.1:${port}` : undefined),
  );
  await waitForHttp(`${server.url}/healthz`);
  return server;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench ab failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
