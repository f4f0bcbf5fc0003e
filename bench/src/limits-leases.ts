// `npm run bench:limits`: what leased window blocks save, and that they stay exact.
// A private redis-server on a loopback port (ended by pid at the end), so INFO commandstats sees
// only the limiters' commands. Two parts, leases on and off:
//   (a) Redis commands per tool call far from any limit: the gateway's sequence per call (the
//       POST's request check, the tool call's windows + in-flight slot, the release), 16 callers
//       and 1 caller, counted as the EVALSHA/EVAL calls in commandstats (what the limiter sends),
//       and as every command commandstats counts, those run inside the scripts included.
//   (b) How many of 90 requests three limiter instances (three nodes) admit against a shared
//       60/min, for several spreads of the traffic over the nodes, and how many of 90 tool calls
//       they hold at once against a shared in-flight cap of 10.
//   npm run bench:limits              full run
//   npm run bench:limits -- --quick   smoke run
//   --json=<file>                      also writes the figures as JSON (npm run bench reads them)
import { writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { LIMITER_REDIS_OPTIONS, Limiter, type LimitDecision, type LimitPrincipal } from '@switchboard/limits';
import { driveToolCalls } from './limiter-calls';
import { commandStats, startPrivateRedis } from './private-redis';

const QUICK = process.argv.includes('--quick');
const JSON_OUT = process.argv.find((arg) => arg.startsWith('--json='))?.slice('--json='.length);

/** What `--json` writes: the two tables of the run. */
export interface LimitsBenchResults {
  calls: number;
  /** EVALSHA/EVAL per call (`leasesOff`, `leasesOn`), and every command Redis ran, inside scripts too (`…All`). */
  commandsPerCall: { limits: string; callers: number; leasesOff: number; leasesOn: number; leasesOffAll: number; leasesOnAll: number }[];
  limit: number;
  nodes: number;
  attempts: number;
  admitted: { spread: string; leasesOff: number; leasesOn: number }[];
  /** In-flight calls held at once against a shared cap of `cap`, for the same spreads. */
  cap: number;
  held: { spread: string; leasesOff: number; leasesOn: number }[];
}
const CALLS = QUICK ? 2_000 : 20_000;
const WARM_UP_CALLS = 500;
const NODES = 3;
const LIMIT = 60;
const ATTEMPTS = 90;
/** Far from any limit: per-minute windows that never run out in a run, the in-flight cap at its default. */
const FAR = 1_000_000_000;

interface Case {
  name: string;
  principal: () => LimitPrincipal;
}

const cases: Case[] = [
  {
    name: 'default shape (tenant windows, in-flight cap 20)',
    principal: () => ({ tenantId: randomUUID(), keyId: randomUUID(), tenantLimits: { requestsPerMinute: FAR, toolCallsPerMinute: FAR, concurrentToolCalls: 20 } }),
  },
  {
    name: 'key + tenant scopes + monthly quota',
    principal: () => ({
      tenantId: randomUUID(),
      keyId: randomUUID(),
      tenantLimits: { requestsPerMinute: FAR, toolCallsPerMinute: FAR, concurrentToolCalls: 20, monthlyToolCalls: FAR },
      keyLimits: { requestsPerMinute: FAR - 1, toolCallsPerMinute: FAR - 1, concurrentToolCalls: 19 },
    }),
  },
];

async function connect(url: string): Promise<Redis> {
  const redis = new Redis(url, LIMITER_REDIS_OPTIONS);
  redis.on('error', () => undefined);
  await new Promise((resolve) => redis.once('ready', resolve));
  return redis;
}

const SCRIPT_COMMANDS = new Set(['evalsha', 'eval', 'evalsha_ro', 'eval_ro']);

/**
 * Commands since the last reset: the limiter sends only scripts during a run (`scripts`);
 * `all` adds what the scripts ran inside Redis, as INFO commandstats counts it.
 */
async function commandCalls(admin: Redis): Promise<{ scripts: number; all: number }> {
  let scripts = 0;
  let all = 0;
  for (const [name, calls] of await commandStats(admin)) {
    if (name.startsWith('config')) continue; // the RESETSTAT itself
    all += calls;
    if (SCRIPT_COMMANDS.has(name)) scripts += calls;
  }
  return { scripts, all };
}

async function commandsPerCall(url: string, admin: Redis, leases: boolean, principal: LimitPrincipal, callers: number): Promise<{ scripts: number; all: number }> {
  const redis = await connect(url);
  const limiter = new Limiter({ redis, keyPrefix: `sb:bench:${randomUUID()}:limits:`, leases });
  await driveToolCalls(limiter, principal, WARM_UP_CALLS, callers);
  await new Promise((resolve) => setTimeout(resolve, 20));
  await admin.config('RESETSTAT');
  await driveToolCalls(limiter, principal, CALLS, callers);
  // Releases may be sent just after the last call returns.
  await new Promise((resolve) => setTimeout(resolve, 20));
  const { scripts, all } = await commandCalls(admin);
  await limiter.close();
  redis.disconnect();
  return { scripts: scripts / CALLS, all: all / CALLS };
}

type Spread = (i: number) => number;
const spreads: { name: string; pick: Spread; concurrent?: boolean }[] = [
  { name: 'round-robin, one at a time', pick: (i) => i % NODES },
  { name: 'skewed 16:3:1, one at a time', pick: (i) => (i % 20 < 16 ? 0 : i % 20 < 19 ? 1 : 2) },
  { name: 'node 0 for 10, then all to node 1', pick: (i) => (i < 10 ? 0 : 1) },
  { name: 'node 0 for 1, then all to node 2', pick: (i) => (i < 1 ? 0 : 2) },
  { name: 'all 90 at once, round-robin', pick: (i) => i % NODES, concurrent: true },
];

async function admittedOf(nodes: Limiter[], spread: (typeof spreads)[number]): Promise<number> {
  const principal: LimitPrincipal = { tenantId: randomUUID(), keyId: randomUUID(), tenantLimits: { requestsPerMinute: LIMIT } };
  let decisions: LimitDecision[];
  if (spread.concurrent) {
    decisions = await Promise.all(Array.from({ length: ATTEMPTS }, (_, i) => nodes[spread.pick(i)].consumeRequest(principal)));
  } else {
    decisions = [];
    for (let i = 0; i < ATTEMPTS; i++) decisions.push(await nodes[spread.pick(i)].consumeRequest(principal));
  }
  return decisions.filter((d) => d.allowed).length;
}

const CAP = 10;

/** Calls taken (and held) against a shared in-flight cap of CAP; then all are given back. */
async function heldOf(nodes: Limiter[], spread: (typeof spreads)[number]): Promise<number> {
  const principal: LimitPrincipal = { tenantId: randomUUID(), keyId: randomUUID(), tenantLimits: { concurrentToolCalls: CAP, toolCallsPerMinute: null, requestsPerMinute: null } };
  // One call on node 0 first, given back: it leaves node 0 a block of idle slots, the case reclaim is for.
  const first = await nodes[0].admitToolCall(principal);
  if (first.allowed) await first.release?.();
  let decisions: LimitDecision[];
  if (spread.concurrent) {
    decisions = await Promise.all(Array.from({ length: ATTEMPTS }, (_, i) => nodes[spread.pick(i)].admitToolCall(principal)));
  } else {
    decisions = [];
    for (let i = 0; i < ATTEMPTS; i++) decisions.push(await nodes[spread.pick(i)].admitToolCall(principal));
  }
  await Promise.all(decisions.map((d) => (d.allowed ? d.release?.() : undefined)));
  return decisions.filter((d) => d.allowed).length;
}

async function main(): Promise<void> {
  const server = await startPrivateRedis();
  const admin = new Redis(server.url);
  const results: LimitsBenchResults = { calls: CALLS, commandsPerCall: [], limit: LIMIT, nodes: NODES, attempts: ATTEMPTS, admitted: [], cap: CAP, held: [] };
  try {
    console.log(`Redis commands per tool call, far from any limit (${CALLS} calls; request check + tool call check + release)`);
    console.log('| Limits | callers | leases off | leases on | leases off, all commands incl. inside scripts | leases on, all commands |');
    console.log('|---|---|---|---|---|---|');
    for (const { name, principal } of cases) {
      for (const callers of [16, 1]) {
        const off = await commandsPerCall(server.url, admin, false, principal(), callers);
        const on = await commandsPerCall(server.url, admin, true, principal(), callers);
        console.log(`| ${name} | ${callers} | ${off.scripts.toFixed(3)} | ${on.scripts.toFixed(3)} | ${off.all.toFixed(2)} | ${on.all.toFixed(3)} |`);
        results.commandsPerCall.push({ limits: name, callers, leasesOff: off.scripts, leasesOn: on.scripts, leasesOffAll: off.all, leasesOnAll: on.all });
      }
    }

    console.log(`\nAdmitted of ${ATTEMPTS} requests against a shared ${LIMIT}/min, ${NODES} limiter instances`);
    console.log('| Spread | leases off | leases on |');
    console.log('|---|---|---|');
    const connections: Redis[] = [];
    const nodesFor = async (leases: boolean) => {
      const prefix = `sb:bench:${randomUUID()}:limits:`;
      return Promise.all(
        Array.from({ length: NODES }, async () => {
          const redis = await connect(server.url);
          connections.push(redis);
          return new Limiter({ redis, keyPrefix: prefix, leases });
        }),
      );
    };
    const off = await nodesFor(false);
    const on = await nodesFor(true);
    for (const spread of spreads) {
      const admitted = { spread: spread.name, leasesOff: await admittedOf(off, spread), leasesOn: await admittedOf(on, spread) };
      results.admitted.push(admitted);
      console.log(`| ${spread.name} | ${admitted.leasesOff} | ${admitted.leasesOn} |`);
    }

    console.log(`\nHeld at once of ${ATTEMPTS} tool calls against a shared in-flight cap of ${CAP}, ${NODES} limiter instances (node 0 took and gave back one call first)`);
    console.log('| Spread | leases off | leases on |');
    console.log('|---|---|---|');
    for (const spread of spreads) {
      const held = { spread: spread.name, leasesOff: await heldOf(off, spread), leasesOn: await heldOf(on, spread) };
      results.held.push(held);
      console.log(`| ${spread.name} | ${held.leasesOff} | ${held.leasesOn} |`);
    }
    await Promise.all([...off, ...on].map((l) => l.close()));
    for (const c of connections) c.disconnect();
    if (JSON_OUT) writeFileSync(JSON_OUT, `${JSON.stringify(results, null, 2)}\n`);
  } finally {
    admin.disconnect();
    await server.stop();
  }
}

// Ends the process itself: after a failure, connections of the limiters would keep reconnecting.
main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
