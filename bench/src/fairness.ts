// `npm run bench:fairness`: can one tenant's flood starve another tenant on the same node?
// One gateway process (Postgres and Redis, as `npm run bench`), two tenants with the echo plugin:
// A, the attacker, on the platform's default limits, and B, the victim, with limits that never
// refuse. B calls `echo` with the official SDK client (Streamable HTTP), one call after another,
// alone and then while A floods the node with 100-message ping batches (legacy SSE and Streamable
// HTTP, several loops at once) and oversized bodies (a 90,000-message batch, a 100,000-level
// nesting). Rounds of alone/flood, so machine drift hits both alike. A's flood runs in a child
// process, so its client work does not delay B's client in this one. Loopback only; every loop is
// bounded in POSTs and time.
//   npm run bench:fairness              full run (under two minutes)
//   npm run bench:fairness -- --quick   smoke run (seconds)
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { DEFAULT_PLATFORM_LIMITS, type LimitOverrides } from '@switchboard/limits';
import { freePort, waitForHttp } from '@switchboard/testing';
import { connect } from './mcp-load';
import { addTenant, seedWorld } from './seed';
import { delay, startServer, type Probe, type ServerProcess } from './server-process';
import { percentile } from './stats';

const QUICK = process.argv.includes('--quick');
const ROUNDS = QUICK ? 1 : 3;
/** How long B is measured in each phase (alone, and during the flood). */
const PHASE_MS = QUICK ? 1_000 : 8_000;
/** The flood runs this long before B's measurement starts, so B meets it at full strength. */
const FLOOD_RAMP_MS = QUICK ? 200 : 500;
const B_WARMUP_CALLS = QUICK ? 50 : 300;
/** Concurrent flood loops per transport, each on its own session of A. */
const FLOOD_LOOPS = 4;
/** Bounds of one flood phase: POSTs per loop, and a ceiling on its duration whatever happens. */
const MAX_POSTS_PER_LOOP = QUICK ? 500 : 5_000;
const MAX_FLOOD_MS = PHASE_MS + FLOOD_RAMP_MS + 5_000;
/** The gateway's batch cap (MAX_BATCH_MESSAGES): the largest batch it takes. */
const BATCH_MESSAGES = 100;
/** Oversized bodies per flood phase, one a second: under MAX_BODY_BYTES (4 MiB), so only the message and depth caps can refuse them. */
const OVERSIZED_PER_FLOOD = QUICK ? 1 : 4;
const OVERSIZED_INTERVAL_MS = 1_000;
const HUGE_BATCH_MESSAGES = 90_000;
const DEEP_NESTING_LEVELS = 100_000;
/** The last MCP revision with JSON-RPC batches (2025-06-18 removed them); A speaks it to be allowed batches at all. */
const BATCH_PROTOCOL_VERSION = '2025-03-26';
const POST_TIMEOUT_MS = 10_000;
const SETUP_TIMEOUT_MS = 10_000;
const ATTACKER_FLAG = '--attacker';

const TENANT_A = 'fair-attacker';
const TENANT_B = 'fair-victim';
/** B's limits: high enough never to refuse, so its limiter runs its checks without changing the result. */
const UNREFUSING = 1_000_000_000;
const B_LIMITS: LimitOverrides = {
  requestsPerMinute: UNREFUSING,
  toolCallsPerMinute: UNREFUSING,
  concurrentSessions: UNREFUSING,
  concurrentToolCalls: UNREFUSING,
};

type FloodKind = 'sse-batch' | 'streamable-batch' | 'huge-batch' | 'deep-nesting';
const FLOOD_KINDS: FloodKind[] = ['sse-batch', 'streamable-batch', 'huge-batch', 'deep-nesting'];
const FLOOD_LABELS: Record<FloodKind, string> = {
  'sse-batch': `legacy SSE, ${BATCH_MESSAGES}-ping batches`,
  'streamable-batch': `Streamable HTTP, ${BATCH_MESSAGES}-ping batches`,
  'huge-batch': `${HUGE_BATCH_MESSAGES.toLocaleString('en-US')}-message batch (legacy SSE)`,
  'deep-nesting': `${DEEP_NESTING_LEVELS.toLocaleString('en-US')}-level nesting (legacy SSE)`,
};

/** How the gateway answered one POST: admitted (200/202), or refused by which check. */
type Outcome = 'admitted' | 'invalid' | 'rate_limited' | 'tenant_busy' | 'other';
const OUTCOMES: Outcome[] = ['admitted', 'invalid', 'rate_limited', 'tenant_busy', 'other'];

interface Count {
  posts: number;
  messages: number;
}
type Tally = Record<FloodKind, Record<Outcome, Count>>;

/** Parent → attacker child. */
type Command = { type: 'open'; origin: string; token: string } | { type: 'flood' } | { type: 'stop' } | { type: 'close' };
/** Attacker child → parent. */
type Report = { type: 'ready' } | { type: 'flooding' } | { type: 'tally'; tally: Tally; seconds: number; cpuSeconds: number; otherStatuses: Record<string, number> };

// ---------------------------------------------------------------------------------------------
// Parent: the gateway, B's measurement and the report.

interface Phase {
  latencies: number[];
  errors: number;
  /** Wall time B was measured, and the gateway's CPU time in it (NaN where /proc is missing). */
  seconds: number;
  gatewayCpuSeconds: number;
}

const emptyPhase = (): Phase => ({ latencies: [], errors: 0, seconds: 0, gatewayCpuSeconds: 0 });

async function main(): Promise<void> {
  const started = new Date();
  const world = await seedWorld();
  let gateway: ServerProcess | undefined;
  let attacker: Attacker | undefined;
  let victim: Client | undefined;
  try {
    // A has no overrides: it gets the platform defaults, which this gateway leaves unset (LIMIT_*).
    const a = await addTenant(world, TENANT_A, {});
    const b = await addTenant(world, TENANT_B, B_LIMITS);
    const port = await freePort();
    gateway = await startServer(
      'dist/apps/gateway/src/main.js',
      [],
      {
        ...world.gatewayEnv,
        REDIS_URL: process.env['BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379',
        GATEWAY_PORT: String(port),
        GATEWAY_METRICS_PORT: '0',
        NODE_ID: `fairness-${process.pid}`,
      },
      (line) => (line.includes('gateway listening') ? `http://127.0.0.1:${port}` : undefined),
    );
    await waitForHttp(`${gateway.url}/healthz`);

    attacker = await startAttacker(gateway.url, a.token);
    victim = await connect({ url: `${gateway.url}/t/${b.slug}/p/echo/mcp`, kind: 'streamable-http', tool: 'echo', authorization: `Bearer ${b.token}` });
    for (let i = 0; i < B_WARMUP_CALLS; i++) await victim.callTool({ name: 'echo', arguments: { text: 'warm' } });

    const before = await gateway.probe();
    const alone = emptyPhase();
    const flooded = emptyPhase();
    const rounds: { alone: number; flooded: number }[] = [];
    const tally = emptyTally();
    const otherStatuses: Record<string, number> = {};
    const flood = { seconds: 0, attackerCpuSeconds: 0 };
    for (let round = 1; round <= ROUNDS; round++) {
      const aloneRound = await measureB(victim, gateway.pid, alone);
      await attacker.flood();
      await delay(FLOOD_RAMP_MS);
      const floodedRound = await measureB(victim, gateway.pid, flooded);
      const result = await attacker.stop();
      addTally(tally, result.tally);
      for (const [status, n] of Object.entries(result.otherStatuses)) otherStatuses[status] = (otherStatuses[status] ?? 0) + n;
      flood.seconds += result.seconds;
      flood.attackerCpuSeconds += result.cpuSeconds;
      rounds.push({ alone: percentile(aloneRound, 50), flooded: percentile(floodedRound, 50) });
      log(`round ${round}/${ROUNDS}: B p50 alone ${fmt(rounds[round - 1]!.alone)} ms, during A's flood ${fmt(rounds[round - 1]!.flooded)} ms`);
    }
    const after = await gateway.probe();
    const peakRss = peakRssOf(gateway.pid);

    process.stdout.write(
      renderReport({ started, alone, flooded, rounds, tally, otherStatuses, flood, before, after, peakRss }),
    );
  } finally {
    await victim?.close().catch(() => undefined);
    await attacker?.close();
    await gateway?.stop();
    await world.close();
  }
}

/** B's echo calls, one after another, for PHASE_MS; added to `phase`. Returns this measurement's latencies. */
async function measureB(client: Client, gatewayPid: number, phase: Phase): Promise<number[]> {
  const latencies: number[] = [];
  const cpuBefore = cpuSecondsOf(gatewayPid);
  const started = performance.now();
  const deadline = started + PHASE_MS;
  let i = 0;
  while (performance.now() < deadline) {
    const t0 = performance.now();
    try {
      const result = await client.callTool({ name: 'echo', arguments: { text: `hello ${i++}` } });
      if (result.isError) phase.errors++;
      else latencies.push(performance.now() - t0);
    } catch {
      phase.errors++;
    }
  }
  phase.seconds += (performance.now() - started) / 1000;
  phase.gatewayCpuSeconds += cpuSecondsOf(gatewayPid) - cpuBefore;
  phase.latencies.push(...latencies);
  return latencies;
}

interface Attacker {
  flood(): Promise<void>;
  stop(): Promise<Extract<Report, { type: 'tally' }>>;
  close(): Promise<void>;
}

/** Forks this file as A's flooding process and waits until its sessions are open. */
async function startAttacker(origin: string, token: string): Promise<Attacker> {
  const child: ChildProcess = fork(__filename, [ATTACKER_FLAG, ...(QUICK ? ['--quick'] : [])], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const next = <T extends Report['type']>(type: T): Promise<Extract<Report, { type: T }>> =>
    new Promise((resolve, reject) => {
      const onMessage = (report: Report) => {
        if (report.type !== type) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(report as Extract<Report, { type: T }>);
      };
      const onExit = (code: number | null) => {
        child.off('message', onMessage);
        reject(new Error(`attacker exited (${code}) while the bench waited for '${type}'`));
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const send = (command: Command) => child.send(command);
  const ready = next('ready');
  send({ type: 'open', origin, token });
  await ready;
  return {
    flood: async () => {
      const flooding = next('flooding');
      send({ type: 'flood' });
      await flooding;
    },
    stop: () => {
      const tally = next('tally');
      send({ type: 'stop' });
      return tally;
    },
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) send({ type: 'close' });
      const timer = setTimeout(() => child.kill('SIGKILL'), SETUP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Clock ticks of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * User and system CPU seconds of a process from /proc, without signalling it (the memory probe
 * would run a full GC inside the measurement); NaN where /proc is missing.
 */
function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may itself hold spaces: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** Highest RSS of the process since it started (Linux /proc VmHWM), in bytes; undefined elsewhere. */
function peakRssOf(pid: number): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

interface ReportInput {
  started: Date;
  alone: Phase;
  flooded: Phase;
  rounds: { alone: number; flooded: number }[];
  tally: Tally;
  otherStatuses: Record<string, number>;
  flood: { seconds: number; attackerCpuSeconds: number };
  before: Probe;
  after: Probe;
  peakRss: number | undefined;
}

function renderReport(input: ReportInput): string {
  const { alone, flooded, tally } = input;
  const cpus = os.cpus();
  const p = (phase: Phase, n: number) => percentile(phase.latencies, n);
  const cpu = (phase: Phase) => `${((100 * phase.gatewayCpuSeconds) / phase.seconds).toFixed(0)}%`;
  const lines = [
    `Measured ${input.started.toISOString()} on ${cpus.length} × ${cpus[0]?.model.split(' ').slice(0, 2).join(' ') ?? 'unknown'}, Node ${process.version}, load average ${os.loadavg()[0]!.toFixed(1)}.`,
    `Command: \`npm run bench:fairness${QUICK ? ' -- --quick' : ''}\` (${ROUNDS} round${ROUNDS > 1 ? 's' : ''} of ${PHASE_MS / 1000} s alone, then ${PHASE_MS / 1000} s during A's flood). ` +
      `A: platform default limits (${DEFAULT_PLATFORM_LIMITS.requestsPerMinute} requests/min), at most 200 requests in progress per node (MAX_IN_PROGRESS_PER_TENANT default); ` +
      `${FLOOD_LOOPS} legacy-SSE and ${FLOOD_LOOPS} Streamable HTTP loops, each POSTing ${BATCH_MESSAGES}-ping batches back to back, plus oversized bodies once a second.`,
    '',
    '| B: echo tool calls (SDK client, Streamable HTTP, sequential) | calls | errors | p50 ms | p95 ms | gateway CPU (of one core) |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    `| alone | ${alone.latencies.length} | ${alone.errors} | ${fmt(p(alone, 50))} | ${fmt(p(alone, 95))} | ${cpu(alone)} |`,
    `| during A's flood | ${flooded.latencies.length} | ${flooded.errors} | ${fmt(p(flooded, 50))} | ${fmt(p(flooded, 95))} | ${cpu(flooded)} |`,
    `| ratio (flood / alone) | | | ${(p(flooded, 50) / p(alone, 50)).toFixed(2)} | ${(p(flooded, 95) / p(alone, 95)).toFixed(2)} | |`,
    '',
    `B's p50 per round, alone → during A's flood (ms): ${input.rounds.map((r) => `${fmt(r.alone)} → ${fmt(r.flooded)}`).join(', ')}.`,
    '',
    '| A: what it sent, messages (POSTs) | sent | admitted 200/202 | refused 400 | refused 429 rate limit | refused 429 in progress | other |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const total = emptyOutcomes();
  for (const kind of FLOOD_KINDS) {
    const row = tally[kind];
    for (const outcome of OUTCOMES) {
      total[outcome].posts += row[outcome].posts;
      total[outcome].messages += row[outcome].messages;
    }
    lines.push(tallyRow(FLOOD_LABELS[kind], row));
  }
  lines.push(tallyRow('**total**', total));
  const sentPosts = OUTCOMES.reduce((sum, outcome) => sum + total[outcome].posts, 0);
  const others = Object.entries(input.otherStatuses).map(([status, n]) => `${status} × ${n}`);
  lines.push(
    '',
    `A's flood: ${sentPosts} POSTs in ${input.flood.seconds.toFixed(1)} s (${(sentPosts / input.flood.seconds).toFixed(0)} POSTs/s); ` +
      `A's own client process used ${((100 * input.flood.attackerCpuSeconds) / input.flood.seconds).toFixed(0)}% of a core on the same machine.` +
      (others.length > 0 ? ` Other answers: ${others.join(', ')}.` : ''),
    '',
    '| gateway node | before the first round | after the last flood |',
    '| --- | ---: | ---: |',
    `| RSS (after a full GC) | ${mib(input.before.memory.rss)} | ${mib(input.after.memory.rss)} |`,
    `| heap used (after a full GC) | ${mib(input.before.memory.heapUsed)} | ${mib(input.after.memory.heapUsed)} |`,
    `| peak RSS of the process (VmHWM) | | ${input.peakRss === undefined ? 'n/a' : mib(input.peakRss)} |`,
    '',
  );
  return lines.join('\n');
}

function tallyRow(label: string, row: Record<Outcome, Count>): string {
  const sent = OUTCOMES.reduce((sum, o) => ({ posts: sum.posts + row[o].posts, messages: sum.messages + row[o].messages }), { posts: 0, messages: 0 });
  const cell = (count: Count) => `${count.messages} (${count.posts})`;
  return `| ${label} | ${cell(sent)} | ${OUTCOMES.map((o) => cell(row[o])).join(' | ')} |`;
}

function emptyOutcomes(): Record<Outcome, Count> {
  return Object.fromEntries(OUTCOMES.map((o) => [o, { posts: 0, messages: 0 }])) as Record<Outcome, Count>;
}

function emptyTally(): Tally {
  return Object.fromEntries(FLOOD_KINDS.map((k) => [k, emptyOutcomes()])) as Tally;
}

function addTally(into: Tally, from: Tally): void {
  for (const kind of FLOOD_KINDS) {
    for (const outcome of OUTCOMES) {
      into[kind][outcome].posts += from[kind][outcome].posts;
      into[kind][outcome].messages += from[kind][outcome].messages;
    }
  }
}

const fmt = (ms: number) => ms.toFixed(3);
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

// ---------------------------------------------------------------------------------------------
// Attacker child: A's sessions and flood loops, commanded over IPC.

interface AttackerSession {
  /** POSTs a body of `messages` JSON-RPC messages; how the gateway answered. */
  post(body: string, messages: number): Promise<{ status: number; text: string }>;
  close(): Promise<void>;
}

function pingBatch(firstId: number, count: number): string {
  const messages: string[] = [];
  for (let i = 0; i < count; i++) messages.push(`{"jsonrpc":"2.0","id":${firstId + i},"method":"ping"}`);
  return `[${messages.join(',')}]`;
}

const initializeRequest = JSON.stringify({
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: BATCH_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'fairness-attacker', version: '1.0.0' } },
});
const initializedNotification = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' });

async function postJson(url: string, headers: Record<string, string>, body: string): Promise<{ status: number; text: string; headers: Headers }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body,
    signal: AbortSignal.timeout(POST_TIMEOUT_MS),
  });
  // Read to the end: a Streamable HTTP answer is a stream of one event per request.
  return { status: response.status, text: await response.text(), headers: response.headers };
}

/** A legacy-SSE session of A: the stream is drained (answers are never left unread), POSTs go to its endpoint. */
async function openLegacySession(origin: string, token: string): Promise<AttackerSession> {
  const authorization = { authorization: `Bearer ${token}` };
  const sseUrl = `${origin}/t/${TENANT_A}/p/echo/sse`;
  const abort = new AbortController();
  const response = await fetch(sseUrl, { headers: { accept: 'text/event-stream', ...authorization }, signal: abort.signal });
  if (response.status !== 200 || !response.body) throw new Error(`A's SSE stream answered ${response.status}`);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let parsing = true;
  const waiters: { test: (event: string) => boolean; resolve: (event: string) => void }[] = [];
  const drained = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      // Once set up, answers are only drained: parsing them would be the attacker's cost, not the node's.
      if (!parsing) continue;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const index = waiters.findIndex((w) => w.test(event));
        if (index >= 0) waiters.splice(index, 1)[0]!.resolve(event);
      }
    }
  })().catch(() => undefined);
  const waitFor = (test: (event: string) => boolean) =>
    Promise.race([
      new Promise<string>((resolve) => waiters.push({ test, resolve })),
      delay(SETUP_TIMEOUT_MS).then(() => Promise.reject(new Error("A's SSE session did not set up in time"))),
    ]);
  const endpointEvent = await waitFor((event) => event.includes('event: endpoint'));
  const data = /^data: ?(.*)$/m.exec(endpointEvent)?.[1];
  if (!data) throw new Error(`no endpoint in ${endpointEvent}`);
  const postUrl = new URL(data, sseUrl).toString();
  const initialized = waitFor((event) => event.includes('"id":0'));
  const init = await postJson(postUrl, authorization, initializeRequest);
  if (init.status !== 202) throw new Error(`A's SSE initialize answered ${init.status}: ${init.text}`);
  await initialized;
  await postJson(postUrl, authorization, initializedNotification);
  parsing = false;
  return {
    post: (body) => postJson(postUrl, authorization, body),
    close: async () => {
      abort.abort();
      await drained;
    },
  };
}

/** A Streamable HTTP session of A, on the last protocol revision that has batches. */
async function openStreamableSession(origin: string, token: string): Promise<AttackerSession> {
  const url = `${origin}/t/${TENANT_A}/p/echo/mcp`;
  const init = await postJson(url, { authorization: `Bearer ${token}` }, initializeRequest);
  const sessionId = init.headers.get('mcp-session-id');
  if (init.status !== 200 || !sessionId) throw new Error(`A's Streamable HTTP initialize answered ${init.status}: ${init.text}`);
  const headers = { authorization: `Bearer ${token}`, 'mcp-session-id': sessionId, 'mcp-protocol-version': BATCH_PROTOCOL_VERSION };
  await postJson(url, headers, initializedNotification);
  return {
    post: (body) => postJson(url, headers, body),
    close: async () => {
      await fetch(url, { method: 'DELETE', headers, signal: AbortSignal.timeout(POST_TIMEOUT_MS) }).catch(() => undefined);
    },
  };
}

interface FloodRun {
  stop(): void;
  stopped: boolean;
  done: Promise<void>;
  tally: Tally;
  /** Answers outside the table's columns, by status. */
  otherStatuses: Record<string, number>;
  started: number;
  cpuStarted: NodeJS.CpuUsage;
}

function outcomeOf(status: number, text: string): Outcome {
  if (status === 200 || status === 202) return 'admitted';
  if (status === 400) return 'invalid';
  // Both limits answer 429; the in-progress cap names itself in its message.
  if (status === 429) return text.includes('in progress') ? 'tenant_busy' : 'rate_limited';
  return 'other';
}

async function runAttacker(): Promise<void> {
  const send = (report: Report) => process.send!(report);
  let sse: AttackerSession[] = [];
  let streamable: AttackerSession[] = [];
  let flood: FloodRun | undefined;
  // One id counter for every batch: ids never repeat within a session, so none is refused as a duplicate.
  let nextId = 1;
  const hugeBatch = pingBatch(0, HUGE_BATCH_MESSAGES);
  const deepNesting = `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":${'['.repeat(DEEP_NESTING_LEVELS)}${']'.repeat(DEEP_NESTING_LEVELS)}}}`;

  const record = (run: FloodRun, kind: FloodKind, messages: number, answer: { status: number; text: string } | undefined) => {
    const outcome = answer ? outcomeOf(answer.status, answer.text) : 'other';
    if (outcome === 'other') {
      const label = answer ? `HTTP ${answer.status}` : 'no answer';
      run.otherStatuses[label] = (run.otherStatuses[label] ?? 0) + 1;
    }
    run.tally[kind][outcome].posts++;
    run.tally[kind][outcome].messages += messages;
  };
  const attempt = (session: AttackerSession, body: string, messages: number) => session.post(body, messages).catch(() => undefined);

  const startFlood = (): FloodRun => {
    let wake!: () => void;
    const stopped = new Promise<void>((resolve) => (wake = resolve));
    const run: FloodRun = {
      stopped: false,
      stop: () => {
        run.stopped = true;
        wake();
      },
      done: Promise.resolve(),
      tally: emptyTally(),
      otherStatuses: {},
      started: performance.now(),
      cpuStarted: process.cpuUsage(),
    };
    const deadline = run.started + MAX_FLOOD_MS;
    const going = () => !run.stopped && performance.now() < deadline;
    const batchLoop = async (session: AttackerSession, kind: FloodKind) => {
      for (let posts = 0; posts < MAX_POSTS_PER_LOOP && going(); posts++) {
        const firstId = nextId;
        nextId += BATCH_MESSAGES;
        record(run, kind, BATCH_MESSAGES, await attempt(session, pingBatch(firstId, BATCH_MESSAGES), BATCH_MESSAGES));
      }
    };
    const oversizedLoop = async () => {
      for (let i = 0; i < OVERSIZED_PER_FLOOD && going(); i++) {
        record(run, 'huge-batch', HUGE_BATCH_MESSAGES, await attempt(sse[0]!, hugeBatch, HUGE_BATCH_MESSAGES));
        record(run, 'deep-nesting', 1, await attempt(sse[0]!, deepNesting, 1));
        // Not past the flood's end: a stop ends the wait.
        await Promise.race([delay(OVERSIZED_INTERVAL_MS), stopped]);
      }
    };
    run.done = Promise.all([
      ...sse.map((session) => batchLoop(session, 'sse-batch')),
      ...streamable.map((session) => batchLoop(session, 'streamable-batch')),
      oversizedLoop(),
    ]).then(() => undefined);
    return run;
  };

  process.on('message', (command: Command) => {
    void (async () => {
      switch (command.type) {
        case 'open':
          sse = await Promise.all(Array.from({ length: FLOOD_LOOPS }, () => openLegacySession(command.origin, command.token)));
          streamable = await Promise.all(Array.from({ length: FLOOD_LOOPS }, () => openStreamableSession(command.origin, command.token)));
          send({ type: 'ready' });
          break;
        case 'flood':
          flood = startFlood();
          send({ type: 'flooding' });
          break;
        case 'stop': {
          const run = flood!;
          run.stop();
          await run.done;
          const cpu = process.cpuUsage(run.cpuStarted);
          send({ type: 'tally', tally: run.tally, seconds: (performance.now() - run.started) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6, otherStatuses: run.otherStatuses });
          break;
        }
        case 'close':
          await Promise.all([...sse, ...streamable].map((session) => session.close()));
          // Idle keep-alive sockets would hold the process a while longer.
          process.exit(0);
      }
    })().catch((error: unknown) => {
      process.stderr.write(`attacker failed: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    });
  });
}

if (process.argv.includes(ATTACKER_FLAG)) {
  void runAttacker();
} else {
  main().catch((error: unknown) => {
    process.stderr.write(`bench:fairness failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
