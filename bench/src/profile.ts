// `npm run bench:profile`: where the gateway's CPU goes per tool call, by transport. Starts one
// gateway the way `npm run bench` does (Postgres, Redis, auth, limits that never refuse, metrics,
// metering, info logs), drives echo calls with the bench's own load code (the official SDK client
// for sse and streamable-http, raw 2026-07-28 POSTs), and samples V8's profiler over the timed
// stretch only (bench/src/cpu-profiler.ts, toggled by signal). Prints, per transport, self time
// grouped by package or by the repository's own file, in µs per call (profiled, so a little above
// the unprofiled bench's figures; compare shares, not absolutes across runs).
//   npm run bench:profile                                   all transports, 16 sessions, 4 s each
//   npm run bench:profile -- --transports=sse --seconds=8   one transport, longer
//   npm run bench:profile -- --tracing                      tracing on, every trace sampled, OTLP to a loopback sink
//   npm run bench:profile -- --target=baseline              the bare SDK servers instead (same load)
//   npm run bench:profile -- --keep=/tmp/profiles           keep the .cpuprofile files (open them in Chrome DevTools)
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, waitForHttp } from '@switchboard/testing';
import { runLoad, type TransportKind } from './mcp-load';
import { ModernLoad } from './modern-load';
import { startOtlpSink } from './otlp-sink';
import { BENCH_TENANT, seedWorld } from './seed';
import { startServer, type ServerProcess } from './server-process';

type ProfiledTransport = TransportKind | '2026-07-28';

const ROOT = path.resolve(__dirname, '../../..');
const PROFILER = path.join(ROOT, 'dist/bench/src/cpu-profiler.js');
const UNREFUSING_LIMIT = '1000000000';

const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const TRANSPORTS = (arg('transports')?.split(',') ?? ['sse', 'streamable-http', '2026-07-28']) as ProfiledTransport[];
const SECONDS = Number(arg('seconds') ?? 4);
const SESSIONS = Number(arg('sessions') ?? 16);
const TOP = Number(arg('top') ?? 18);
const TARGET = (arg('target') ?? 'gateway') as 'gateway' | 'baseline';
const TRACING = process.argv.includes('--tracing');
const KEEP = arg('keep');

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

async function main(): Promise<void> {
  for (const transport of TRANSPORTS) {
    if (!['sse', 'streamable-http', '2026-07-28'].includes(transport)) throw new Error(`--transports: unknown transport ${transport} (sse, streamable-http, 2026-07-28)`);
  }
  const world = await seedWorld();
  const sink = TRACING ? await startOtlpSink() : undefined;
  const dir = KEEP ?? path.join(tmpdir(), `bench-profile-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const written: ((file: string) => void)[] = [];
  const servers: ServerProcess[] = [];
  const onLine = (line: string): void => {
    if (line.startsWith('cpu-profile /')) written.shift()?.(line.slice('cpu-profile '.length));
  };
  const env = { NODE_OPTIONS: `--require ${PROFILER}`, BENCH_PROFILE_OUT: path.join(dir, TARGET) };
  try {
    const start = async (entry: string, extra: Record<string, string>, ready: (line: string) => string | undefined): Promise<ServerProcess> => {
      const server = await startServer(entry, entry.includes('gateway') ? [] : ['0'], { ...env, ...extra }, (line) => (onLine(line), ready(line)));
      servers.push(server);
      return server;
    };
    const listening = (line: string): string | undefined => /^listening (\d+)$/.exec(line)?.[1]?.replace(/^/, 'http://127.0.0.1:');
    let gateway: ServerProcess | undefined;
    let baseline: ServerProcess | undefined;
    let modernBaseline: ServerProcess | undefined;
    if (TARGET === 'gateway') {
      const port = await freePort();
      gateway = await start(
        'dist/apps/gateway/src/main.js',
        {
          ...world.gatewayEnv,
          REDIS_URL: process.env['BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379',
          GATEWAY_PORT: String(port),
          GATEWAY_METRICS_PORT: '0',
          NODE_ID: `bench-profile-${process.pid}`,
          LIMIT_REQUESTS_PER_MINUTE: UNREFUSING_LIMIT,
          LIMIT_TOOL_CALLS_PER_MINUTE: UNREFUSING_LIMIT,
          LIMIT_CONCURRENT_SESSIONS: UNREFUSING_LIMIT,
          LIMIT_CONCURRENT_TOOL_CALLS: UNREFUSING_LIMIT,
          ...(sink ? { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_TRACES_SAMPLER_ARG: '1' } : {}),
        },
        (line) => (line.includes('gateway listening') ? `http://127.0.0.1:${port}` : undefined),
      );
      await waitForHttp(`${gateway.url}/healthz`);
    } else {
      baseline = await start('dist/bench/src/baseline-server.js', {}, listening);
      modernBaseline = await start('dist/bench/src/modern-baseline-server.js', {}, listening);
    }
    const toggle = (server: ServerProcess): void => void process.kill(server.pid, 'SIGWINCH');
    const stopProfile = (server: ServerProcess): Promise<string> =>
      new Promise((resolve) => {
        written.push(resolve);
        toggle(server);
      });

    const out: string[] = [
      `CPU profile of the ${TARGET === 'gateway' ? `gateway${TRACING ? ' (tracing on, 100% sampled)' : ''}` : 'bare SDK servers'}, ${SESSIONS} sessions, ${SECONDS} s per transport, ${new Date().toISOString()}.`,
      `Command: \`npm run bench:profile -- ${process.argv.slice(2).join(' ')}\`. Self time per call, busy samples only (idle excluded).`,
      '',
    ];
    for (const transport of TRANSPORTS) {
      const server = transport === '2026-07-28' ? (gateway ?? modernBaseline!) : (gateway ?? baseline!);
      let calls: number;
      let profileFile!: string;
      if (transport === '2026-07-28') {
        const url = gateway ? `${gateway.url}/t/${BENCH_TENANT}/p/echo/mcp` : `${server.url}/mcp`;
        const load = new ModernLoad([{ url, tool: 'echo', ...(gateway ? { authorization: `Bearer ${world.token}` } : {}) }], SESSIONS);
        try {
          await load.warmUp(2_000);
          toggle(server);
          const sample = await load.run(SECONDS * 1000);
          profileFile = await stopProfile(server);
          if (sample.errors > 0) throw new Error(`2026-07-28: ${sample.errors} errors, first: ${load.firstError}`);
          calls = sample.latencies.length;
        } finally {
          await load.close();
        }
      } else {
        const endpoint = gateway
          ? { url: `${gateway.url}/t/${BENCH_TENANT}/p/echo/${transport === 'sse' ? 'sse' : 'mcp'}`, kind: transport, tool: 'echo', authorization: `Bearer ${world.token}` }
          : { url: `${server.url}/${transport === 'sse' ? 'sse' : 'mcp'}`, kind: transport, tool: 'echo' };
        const result = await runLoad(endpoint, SESSIONS, SECONDS * 1000, {
          beforeMeasure: async () => toggle(server),
          afterMeasure: async () => void (profileFile = await stopProfile(server)),
        }, 2_000);
        if (result.errors > 0) throw new Error(`${transport}: ${result.errors} errors`);
        calls = result.calls;
      }
      const profile = JSON.parse(readFileSync(profileFile, 'utf8')) as CpuProfile;
      out.push(`### ${transport}`, '', ...render(profile, calls), '');
      process.stderr.write(`${transport}: ${calls} calls profiled (${profileFile})\n`);
    }
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    await sink?.close();
    await world.close();
    if (!KEEP) rmSync(dir, { recursive: true, force: true });
  }
}

/** Where a frame's code lives: a package, the repository's own file, a Node core module, or a V8 bucket. */
function ownerOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : `(native) ${functionName || 'anonymous'}`;
  if (url.startsWith('node:')) return `node:${url.slice(5).replace(/^internal\//, '').split('/')[0]!.replace(/\.js$/, '')}`;
  const file = url.replace(/^file:\/\//, '');
  const modules = file.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const rest = file.slice(modules + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  return path.relative(path.join(ROOT, 'dist'), file).replace(/\.js$/, '.ts');
}

/** Node internals, natives and anonymous code with no owner of their own in the caller's table. */
function isUnowned(owner: string): boolean {
  return owner.startsWith('node:') || owner.startsWith('(native)');
}

function render(profile: CpuProfile, calls: number): string[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i + 1] ?? 0;
    self.set(profile.samples[i]!, (self.get(profile.samples[i]!) ?? 0) + delta);
  }
  const byOwner = new Map<string, number>();
  const charged = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busy = 0;
  for (const [id, micros] of self) {
    const node = byId.get(id)!;
    const owner = ownerOf(node.callFrame);
    if (owner === '(idle)' || owner === '(root)') continue;
    busy += micros;
    byOwner.set(owner, (byOwner.get(owner) ?? 0) + micros);
    // Charged: a Node internal's time goes to the nearest caller that has an owner, which says
    // who asked for the work (a socket write charged to the transport that wrote).
    let payer = id;
    let payerOwner = owner;
    while (isUnowned(payerOwner) && parent.has(payer)) {
      payer = parent.get(payer)!;
      payerOwner = ownerOf(byId.get(payer)!.callFrame);
      if (payerOwner === '(root)') {
        payerOwner = owner.startsWith('node:') ? 'Node, called from the event loop' : owner;
        break;
      }
    }
    charged.set(payerOwner, (charged.get(payerOwner) ?? 0) + micros);
    const name = `${node.callFrame.functionName || '(anonymous)'} ${owner}:${node.callFrame.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
  }
  const perCall = (micros: number): string => (micros / calls).toFixed(1);
  const share = (micros: number): string => `${((100 * micros) / busy).toFixed(1)}%`;
  const top = (map: Map<string, number>): [string, number][] => [...map].sort((a, b) => b[1] - a[1]).slice(0, TOP);
  const lines = [
    `${calls} calls, busy ${perCall(busy)} µs per call.`,
    '',
    '| package or file (self time) | µs/call | share | | charged to the nearest owning caller | µs/call | share |',
    '| --- | ---: | ---: | --- | --- | ---: | ---: |',
  ];
  const left = top(byOwner);
  const right = top(charged);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const l = left[i];
    const r = right[i];
    lines.push(`| ${l ? `${l[0]} | ${perCall(l[1])} | ${share(l[1])}` : ' | | '} | | ${r ? `${r[0]} | ${perCall(r[1])} | ${share(r[1])}` : ' | | '} |`);
  }
  lines.push('', '| top functions (self time) | µs/call | share |', '| --- | ---: | ---: |');
  for (const [name, micros] of top(byFunction)) lines.push(`| \`${name}\` | ${perCall(micros)} | ${share(micros)} |`);
  return lines;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:profile failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
