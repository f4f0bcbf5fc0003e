// `npm run bench:tracing`: the gateway's CPU per tool call with OpenTelemetry tracing on
// (every trace sampled, exported over OTLP/HTTP to a loopback sink) against tracing off, two
// gateways side by side over the same database and Redis, measured in alternating rounds so
// drift on a shared machine hits both alike. Prints a table; writes bench/results/tracing.json.
//   npm run bench:tracing             full run (about a minute)
//   npm run bench:tracing -- --quick  smoke run
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, waitForHttp } from '@switchboard/testing';
import { runLoad, type TransportKind } from './mcp-load';
import { startOtlpSink } from './otlp-sink';
import { BENCH_TENANT, seedWorld, type BenchWorld } from './seed';
import { cpuMicros, startServer, type ServerProcess } from './server-process';
import { median, round } from './stats';

const QUICK = process.argv.includes('--quick');
/** `--sample=0.1`: the sampled fraction with tracing on (every trace by default, the target's case). */
const SAMPLE = process.argv.find((arg) => arg.startsWith('--sample='))?.slice('--sample='.length) ?? '1';
/** `--env=NAME=value` (repeatable): more environment for the traced gateway, e.g. OTEL_BSP_SCHEDULE_DELAY. */
const EXTRA_ENV = Object.fromEntries(
  process.argv.filter((arg) => arg.startsWith('--env=')).map((arg) => {
    const [name, ...value] = arg.slice('--env='.length).split('=');
    return [name, value.join('=')];
  }),
);
const ROUND_MS = QUICK ? 400 : 2_000;
/** Pairs of rounds (off then on, or on then off): the machine's drift shows in the spread of their ratios. */
const ROUNDS = QUICK ? 2 : 12;
const SESSIONS = 16;
const TRANSPORTS: TransportKind[] = ['streamable-http', 'sse'];
const UNREFUSING_LIMIT = '1000000000';
/** The tracing target of issue 16: CPU per call with tracing on, sampled 100%, over tracing off. */
export const TRACING_CPU_RATIO_TARGET = 1.1;

type Mode = 'off' | 'on';

interface TracingRow {
  transport: TransportKind;
  sessions: number;
  mode: Mode;
  calls: number;
  callsPerSecond: number;
  p50Ms: number;
  cpuMicrosPerCall: number;
  /** Tracing on only: the median, over rounds, of on/off CPU per call measured back to back. */
  medianRoundRatio?: number;
}

async function main(): Promise<void> {
  const world = await seedWorld();
  const sink = await startOtlpSink();
  const gateways: Partial<Record<Mode, ServerProcess>> = {};
  try {
    gateways.off = await startGateway(world, 'off', {});
    gateways.on = await startGateway(world, 'on', { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_TRACES_SAMPLER_ARG: SAMPLE, ...EXTRA_ENV });
    const rows: TracingRow[] = [];
    for (const transport of TRANSPORTS) {
      const totals = { off: { calls: 0, cpu: 0, seconds: 0, p50: [] as number[] }, on: { calls: 0, cpu: 0, seconds: 0, p50: [] as number[] } };
      const ratios: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const perCall: Partial<Record<Mode, number>> = {};
        for (const mode of r % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
          const server = gateways[mode]!;
          let before!: Awaited<ReturnType<ServerProcess['probe']>>;
          let after!: typeof before;
          const endpoint = { url: `${server.url}/t/${BENCH_TENANT}/p/echo/${transport === 'sse' ? 'sse' : 'mcp'}`, kind: transport, tool: 'echo', authorization: `Bearer ${world.token}` };
          const result = await runLoad(endpoint, SESSIONS, ROUND_MS, {
            beforeMeasure: async () => void (before = await server.probe()),
            afterMeasure: async () => void (after = await server.probe()),
          });
          if (result.errors > 0) throw new Error(`tracing ${mode} ${transport}: ${result.errors} errors`);
          totals[mode].calls += result.calls;
          totals[mode].seconds += result.seconds;
          totals[mode].cpu += cpuMicros(before, after);
          totals[mode].p50.push(result.p50Ms);
          perCall[mode] = cpuMicros(before, after) / result.calls;
        }
        ratios.push(perCall.on! / perCall.off!);
      }
      for (const mode of ['off', 'on'] as const) {
        const t = totals[mode];
        rows.push({
          transport,
          sessions: SESSIONS,
          mode,
          calls: t.calls,
          callsPerSecond: round(t.calls / t.seconds, 0),
          p50Ms: round(t.p50.sort((a, b) => a - b)[Math.floor(t.p50.length / 2)]!, 3),
          cpuMicrosPerCall: round(t.cpu / t.calls, 1),
          ...(mode === 'on' ? { medianRoundRatio: round(median(ratios), 3) } : {}),
        });
      }
      process.stderr.write(`${transport} x${SESSIONS}: ${rows.slice(-2).map((row) => `${row.mode} ${row.cpuMicrosPerCall} µs CPU/call`).join(', ')}\n`);
    }
    const report = render(rows, sink.spans());
    process.stdout.write(report);
    const dir = path.resolve(__dirname, '../../../bench/results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'tracing.json'), `${JSON.stringify({ at: new Date().toISOString(), quick: QUICK, sample: Number(SAMPLE), roundMs: ROUND_MS, rounds: ROUNDS, rows, spansExported: sink.spans() }, null, 2)}\n`);
  } finally {
    await Promise.all(Object.values(gateways).map((gateway) => gateway!.stop()));
    await sink.close();
    await world.close();
  }
}

async function startGateway(world: BenchWorld, mode: Mode, env: Record<string, string>): Promise<ServerProcess> {
  const port = await freePort();
  const server = await startServer(
    'dist/apps/gateway/src/main.js',
    [],
    {
      ...world.gatewayEnv,
      REDIS_URL: process.env['BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379',
      GATEWAY_PORT: String(port),
      GATEWAY_METRICS_PORT: '0',
      NODE_ID: `bench-tracing-${mode}-${process.pid}`,
      LIMIT_REQUESTS_PER_MINUTE: UNREFUSING_LIMIT,
      LIMIT_TOOL_CALLS_PER_MINUTE: UNREFUSING_LIMIT,
      LIMIT_CONCURRENT_SESSIONS: UNREFUSING_LIMIT,
      LIMIT_CONCURRENT_TOOL_CALLS: UNREFUSING_LIMIT,
      ...env,
    },
    (line) => (line.includes('gateway listening') ? `http://127.0.0.1:${port}` : undefined),
  );
  await waitForHttp(`${server.url}/healthz`);
  return server;
}

function render(rows: TracingRow[], spans: number): string {
  const lines = [
    `| transport | sessions | tracing | calls/s | p50 ms | gateway CPU µs/call | on / off (totals) | on / off (median of ${ROUNDS} back-to-back rounds) | target ≤ ${TRACING_CPU_RATIO_TARGET}× (median) |`,
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const transport of TRANSPORTS) {
    const off = rows.find((row) => row.transport === transport && row.mode === 'off')!;
    const on = rows.find((row) => row.transport === transport && row.mode === 'on')!;
    const ratio = on.medianRoundRatio ?? on.cpuMicrosPerCall / off.cpuMicrosPerCall;
    lines.push(`| ${transport} | ${off.sessions} | off | ${off.callsPerSecond} | ${off.p50Ms} | ${off.cpuMicrosPerCall} | | | |`);
    lines.push(`| ${transport} | ${on.sessions} | on (${Number(SAMPLE) * 100}%) | ${on.callsPerSecond} | ${on.p50Ms} | ${on.cpuMicrosPerCall} | ${round(on.cpuMicrosPerCall / off.cpuMicrosPerCall, 2)}× | ${round(ratio, 2)}× | ${ratio <= TRACING_CPU_RATIO_TARGET ? 'met' : 'missed'} |`);
  }
  return `${lines.join('\n')}\n\nSpans exported during the run: ${spans}.\n`;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:tracing failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
