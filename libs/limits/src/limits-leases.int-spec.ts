import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { startTcpProxy, testRedisUrl, type TcpProxy } from '@switchboard/testing';
import type { LimitDecision, LimitPrincipal } from './limit-decision';
import { LIMITER_REDIS_OPTIONS, Limiter, type LimiterOptions } from './limiter';

// Leases of window units (the default): three limiters on one Redis are three gateway nodes.
const PREFIX = `sb:test:${randomBytes(4).toString('hex')}:limits:`;
const NODES = 3;
/** Longer than production: a stalled command would fail open and admit one more than the limit. */
const TEST_REDIS_OPTIONS = { ...LIMITER_REDIS_OPTIONS, commandTimeout: 5_000 };

const connections: Redis[] = [];
const limiters: Limiter[] = [];
let admin: Redis;
let nodes: Limiter[];

function ready(redis: Redis): Promise<unknown> {
  return redis.status === 'ready' ? Promise.resolve() : new Promise((resolve) => redis.once('ready', resolve));
}

async function nodeWithConnection(options: Partial<LimiterOptions> = {}, url = testRedisUrl()): Promise<{ limiter: Limiter; redis: Redis }> {
  const redis = new Redis(url, TEST_REDIS_OPTIONS);
  redis.on('error', () => undefined);
  connections.push(redis);
  const limiter = new Limiter({ redis, keyPrefix: PREFIX, ...options });
  limiters.push(limiter);
  await ready(redis);
  return { limiter, redis };
}

function tenant(overrides: LimitPrincipal['tenantLimits'] = {}, keyLimits: LimitPrincipal['keyLimits'] = {}): LimitPrincipal {
  return { tenantId: randomUUID(), keyId: randomUUID(), tenantLimits: overrides, keyLimits };
}

const allowedCount = (decisions: LimitDecision[]) => decisions.filter((d) => d.allowed).length;

/** Sends one check at a time, to the node `pick(i)` names: local blocks are used as in production. */
async function oneByOne(count: number, pick: (i: number) => number, check: (node: Limiter) => Promise<LimitDecision>): Promise<LimitDecision[]> {
  const decisions: LimitDecision[] = [];
  for (let i = 0; i < count; i++) {
    const decision = await check(nodes[pick(i)]);
    if (decision.allowed) await decision.release?.();
    decisions.push(decision);
  }
  return decisions;
}

/** Counts the commands a connection sends. */
function countCommands(redis: Redis): string[] {
  const sent: string[] = [];
  const original = redis.sendCommand.bind(redis);
  redis.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
    sent.push(command.name);
    return (original as (...args: unknown[]) => unknown)(command, ...rest);
  }) as typeof redis.sendCommand;
  return sent;
}

const windowKey = (principal: LimitPrincipal, limit = 'requestsPerMinute') => `${PREFIX}rl:${limit}:tenant:${principal.tenantId}`;

beforeAll(async () => {
  admin = new Redis(testRedisUrl());
  nodes = await Promise.all(Array.from({ length: NODES }, async () => (await nodeWithConnection()).limiter));
});

afterAll(async () => {
  await Promise.all(limiters.map((l) => l.close()));
  const keys = await admin.keys(`${PREFIX}*`);
  if (keys.length) await admin.del(...keys);
  for (const c of [...connections, admin]) c.disconnect();
});

describe('Limiter with leased window blocks, three nodes on one Redis', () => {
  const request = (principal: LimitPrincipal) => (node: Limiter) => node.consumeRequest(principal);

  it('admits exactly 60 of 90 against 60/min when requests go round-robin', async () => {
    const principal = tenant({ requestsPerMinute: 60 });
    const decisions = await oneByOne(90, (i) => i % NODES, request(principal));
    expect(allowedCount(decisions)).toBe(60);
    expect(decisions.slice(0, 60).every((d) => d.allowed)).toBe(true);
    expect(decisions[60]).toMatchObject({ allowed: false, scope: 'tenant', limit: 'requestsPerMinute', limitValue: 60, remaining: 0, reason: 'limit-reached' });
    expect(Number(await admin.get(windowKey(principal)))).toBe(60);
  });

  it('admits exactly 60 when most traffic lands on one node and a little on the others', async () => {
    const principal = tenant({ requestsPerMinute: 60 });
    // Of every 20: 16 to node 0, 3 to node 1, 1 to node 2.
    const skewed = (i: number) => (i % 20 < 16 ? 0 : i % 20 < 19 ? 1 : 2);
    const decisions = await oneByOne(90, skewed, request(principal));
    expect(allowedCount(decisions)).toBe(60);
    expect(decisions.slice(0, 60).every((d) => d.allowed)).toBe(true);
  });

  it('admits exactly 60 when all traffic moves to another node mid-window, the first keeping its block', async () => {
    const principal = tenant({ requestsPerMinute: 60 });
    expect((await nodes[0].consumeRequest(principal)).allowed).toBe(true);
    // Node 0 now holds unused units and gets no more traffic: they are handed back when node 1 runs out.
    expect(Number(await admin.get(windowKey(principal)))).toBeGreaterThan(1);
    const moved = await oneByOne(80, () => 1, request(principal));
    expect(allowedCount(moved)).toBe(59);
    expect(moved.slice(0, 59).every((d) => d.allowed)).toBe(true);
    // ...and moves again: nothing left anywhere.
    expect(allowedCount(await oneByOne(5, () => 2, request(principal)))).toBe(0);
    expect(Number(await admin.get(windowKey(principal)))).toBe(60);
  });

  it('admits exactly 60 of 90 concurrent requests spread over the nodes', async () => {
    const principal = tenant({ requestsPerMinute: 60 });
    await oneByOne(3, (i) => i, request(principal)); // every node holds a block
    const decisions = await Promise.all(Array.from({ length: 87 }, (_, i) => nodes[i % NODES].consumeRequest(principal)));
    expect(allowedCount(decisions)).toBe(57);
  });

  it('admits whole batches from blocks: a batch of n takes n units, and the last units still go to single requests', async () => {
    const principal = tenant({ requestsPerMinute: 60 });
    const batches = await oneByOne(12, (i) => i % NODES, (node) => node.consumeRequest(principal, 7));
    expect(allowedCount(batches)).toBe(8); // 56
    const singles = await oneByOne(10, (i) => (i + 1) % NODES, request(principal));
    expect(allowedCount(singles)).toBe(4);
  });

  it('keeps a key to its own tighter limit and the tenant to its own, both exact', async () => {
    const shared = tenant({ requestsPerMinute: 60 }, { requestsPerMinute: 20 });
    const other = { ...shared, keyId: randomUUID(), keyLimits: {} };
    const tight = await oneByOne(30, (i) => i % NODES, request(shared));
    expect(allowedCount(tight)).toBe(20);
    const rest = await oneByOne(60, (i) => (i * 2) % NODES, request(other));
    expect(allowedCount(rest)).toBe(40);
  });

  it('shares tool calls per minute and the monthly quota exactly, with the in-flight lease per call', async () => {
    const perMinute = tenant({ toolCallsPerMinute: 60, concurrentToolCalls: 5 });
    expect(allowedCount(await oneByOne(90, (i) => (i % 7) % NODES, (node) => node.admitToolCall(perMinute)))).toBe(60);
    const quota = tenant({ toolCallsPerMinute: null, monthlyToolCalls: 45 });
    const decisions = await oneByOne(70, (i) => (i < 20 ? 0 : 1 + (i % 2)), (node) => node.admitToolCall(quota));
    expect(allowedCount(decisions)).toBe(45);
    expect(decisions[45]).toMatchObject({ allowed: false, limit: 'monthlyToolCalls', scope: 'tenant' });
  });

  it('spends nothing on tool calls the in-flight cap refuses: the cluster still admits the whole minute afterwards', async () => {
    const principal = tenant({ toolCallsPerMinute: 60, concurrentToolCalls: 5, monthlyToolCalls: 1_000 });
    await oneByOne(3, (i) => i, (node) => node.admitToolCall(principal)); // blocks on every node
    const held = await Promise.all(Array.from({ length: 200 }, (_, i) => nodes[i % NODES].admitToolCall(principal)));
    expect(allowedCount(held)).toBe(5);
    expect(held.find((d) => !d.allowed)).toMatchObject({ limit: 'concurrentToolCalls', scope: 'tenant' });
    await Promise.all(held.map((d) => (d.allowed ? d.release?.() : undefined)));
    const rest = await oneByOne(80, (i) => i % NODES, (node) => node.admitToolCall(principal));
    expect(allowedCount(rest)).toBe(60 - 3 - 5);
    // The quota counts the same 60 admitted calls, blocks handed back included.
    expect(allowedCount(await oneByOne(5, (i) => i % NODES, (node) => node.consumeToolCall(tenant())))).toBe(5);
  });

  it('spends nothing on requests a window refuses: the refused node keeps asking and gets units freed later', async () => {
    const principal = tenant({ requestsPerMinute: 10 });
    expect(allowedCount(await oneByOne(10, () => 0, request(principal)))).toBe(10);
    const refused = await oneByOne(5, (i) => 1 + (i % 2), request(principal));
    expect(allowedCount(refused)).toBe(0);
    expect(Number(await admin.get(windowKey(principal)))).toBe(10);
  });

  it('admits far from the limit without a Redis command per check', async () => {
    const { limiter, redis } = await nodeWithConnection();
    const principal = tenant({ requestsPerMinute: 6_000 });
    await limiter.consumeRequest(principal); // loads the script, takes the first block
    const sent = countCommands(redis);
    for (let i = 0; i < 100; i++) expect((await limiter.consumeRequest(principal)).allowed).toBe(true);
    // Blocks are at least (6000 - 1) / (2 × the nodes leasing, at most 5 here) ≈ 600 units.
    expect(sent.length).toBe(0);
    const first = await limiter.consumeRequest(principal);
    expect(first).toMatchObject({ allowed: true, state: { limitValue: 6_000, remaining: 6_000 - 102 } });
  });

  it('admits with leases off through one command per check, and shares the windows with leasing nodes', async () => {
    const { limiter, redis } = await nodeWithConnection({ leases: false });
    const principal = tenant({ requestsPerMinute: 30 });
    await limiter.consumeRequest(principal);
    const sent = countCommands(redis);
    for (let i = 0; i < 9; i++) await limiter.consumeRequest(principal);
    expect(sent).toEqual(Array.from({ length: 9 }, () => 'evalsha'));
    const decisions = await oneByOne(30, (i) => i % NODES, request(principal));
    expect(allowedCount(decisions)).toBe(20);
    expect(await limiter.consumeRequest(principal)).toMatchObject({ allowed: false, remaining: 0 });
  });

  it('hands its blocks back when it closes, so the others can use them', async () => {
    const { limiter } = await nodeWithConnection();
    const principal = tenant({ requestsPerMinute: 60 });
    expect((await limiter.consumeRequest(principal)).allowed).toBe(true);
    expect(Number(await admin.get(windowKey(principal)))).toBeGreaterThan(1);
    await limiter.close();
    expect(Number(await admin.get(windowKey(principal)))).toBe(1);
    expect(allowedCount(await oneByOne(70, (i) => i % NODES, request(principal)))).toBe(59);
  });

  it('admits no more than the limit when a node holding a block never answers, and the rest still get theirs', async () => {
    const principal = tenant({ requestsPerMinute: 60 });
    // A node killed with its block: counted in the window and listed as a holder, never handing back.
    await admin.set(windowKey(principal), 12, 'EX', 60);
    await admin.hset(`${windowKey(principal)}:held`, 'dead-node', 12);
    await admin.pexpire(`${windowKey(principal)}:held`, 60_000);
    const decisions = await oneByOne(60, (i) => i % NODES, request(principal));
    expect(allowedCount(decisions)).toBe(48);
    expect(decisions.slice(0, 48).every((d) => d.allowed)).toBe(true);
    expect(Number(await admin.get(windowKey(principal)))).toBe(60);
  });
});

describe('Limiter with leased in-flight slot blocks, three nodes on one Redis', () => {
  const CAP = 10;
  /** Only the in-flight cap: no windows, so what is measured is the slots alone. */
  const capped = (cap = CAP) => tenant({ concurrentToolCalls: cap, toolCallsPerMinute: null, requestsPerMinute: null });
  const call = (principal: LimitPrincipal) => (node: Limiter) => node.admitToolCall(principal);
  const releaseAll = (decisions: LimitDecision[]) => Promise.all(decisions.map((d) => (d.allowed ? d.release?.() : undefined)));

  /** Takes slots one at a time on the node `pick(i)` names, holding every admitted call. */
  async function hold(count: number, pick: (i: number) => number, principal: LimitPrincipal): Promise<LimitDecision[]> {
    const decisions: LimitDecision[] = [];
    for (let i = 0; i < count; i++) decisions.push(await nodes[pick(i)].admitToolCall(principal));
    return decisions;
  }

  it('holds exactly the cap when calls are taken round-robin, skewed, or all at once', async () => {
    for (const spread of [(i: number) => i % NODES, (i: number) => (i % 20 < 16 ? 0 : i % 20 < 19 ? 1 : 2)]) {
      const principal = capped();
      const held = await hold(15, spread, principal);
      expect(allowedCount(held)).toBe(CAP);
      expect(held.slice(0, CAP).every((d) => d.allowed)).toBe(true);
      expect(held[CAP]).toMatchObject({ allowed: false, limit: 'concurrentToolCalls', scope: 'tenant', limitValue: CAP });
      await releaseAll(held);
    }
    const principal = capped();
    await releaseAll(await oneByOne(3, (i) => i, call(principal))); // every node holds a block
    const atOnce = await Promise.all(Array.from({ length: 60 }, (_, i) => nodes[i % NODES].admitToolCall(principal)));
    expect(allowedCount(atOnce)).toBe(CAP);
    await releaseAll(atOnce);
  });

  it('admits calls sent together on one node up to the cap, the blocks granted to some serving the others', async () => {
    const principal = capped(20);
    const together = await Promise.all(Array.from({ length: 16 }, () => nodes[0].admitToolCall(principal)));
    expect(allowedCount(together)).toBe(16);
    const more = await Promise.all(Array.from({ length: 8 }, (_, i) => nodes[i % NODES].admitToolCall(principal)));
    expect(allowedCount(more)).toBe(4);
    await releaseAll([...together, ...more]);
  });

  it('gives a node refused while another holds idle slots those slots, after the reclaim', async () => {
    const principal = capped();
    // Node 0 takes a block with its first call and then gets no more traffic.
    await releaseAll(await oneByOne(1, () => 0, call(principal)));
    const moved = await hold(CAP + 3, () => 1, principal);
    expect(allowedCount(moved)).toBe(CAP);
    expect(moved.slice(0, CAP).every((d) => d.allowed)).toBe(true);
    // ...and moves again, with every slot held on node 1: nothing to give.
    expect(allowedCount(await hold(3, () => 2, principal))).toBe(0);
    await releaseAll(moved);
    // Freed on node 1: node 2 gets them back, all of them.
    const again = await hold(CAP + 1, () => 2, principal);
    expect(allowedCount(again)).toBe(CAP);
    await releaseAll(again);
  });

  it('never has more than the cap in flight while calls start and end concurrently on every node', async () => {
    const principal = capped();
    let inFlight = 0;
    let most = 0;
    let admitted = 0;
    let refused = 0;
    const worker = async (w: number) => {
      for (let round = 0; round < 40; round++) {
        const decision = await nodes[(w + round) % NODES].admitToolCall(principal);
        if (!decision.allowed) {
          refused++;
          continue;
        }
        admitted++;
        most = Math.max(most, ++inFlight);
        // Held across a few turns, so calls of all nodes overlap.
        for (let t = 0; t < (w % 4) + 1; t++) await new Promise((resolve) => setImmediate(resolve));
        inFlight--;
        void decision.release?.();
      }
    };
    await Promise.all(Array.from({ length: 24 }, (_, w) => worker(w)));
    expect(most).toBeLessThanOrEqual(CAP);
    expect(admitted).toBeGreaterThan(0);
    expect(admitted + refused).toBe(24 * 40);
    // Afterwards every slot is free again: the cap is reachable in full from one node.
    const after = await hold(CAP + 1, () => 0, principal);
    expect(allowedCount(after)).toBe(CAP);
    await releaseAll(after);
  });

  it('keeps a key to its own tighter cap and the tenant to its own, both exact', async () => {
    const shared = tenant({ concurrentToolCalls: CAP, toolCallsPerMinute: null }, { concurrentToolCalls: 4 });
    const other = { ...shared, keyId: randomUUID(), keyLimits: {} };
    const tight = await hold(8, (i) => i % NODES, shared);
    expect(allowedCount(tight)).toBe(4);
    const rest = await hold(10, (i) => (i * 2) % NODES, other);
    expect(allowedCount(rest)).toBe(CAP - 4);
    await releaseAll([...tight, ...rest]);
  });

  it('starts and ends calls far from their caps without a Redis command', async () => {
    const { limiter, redis } = await nodeWithConnection();
    const principal = tenant({ concurrentToolCalls: 1_000, toolCallsPerMinute: 60_000 });
    const first = await limiter.admitToolCall(principal); // loads the script, takes the blocks
    if (first.allowed) await first.release?.();
    const sent = countCommands(redis);
    for (let i = 0; i < 100; i++) {
      const decisions = await Promise.all([limiter.admitToolCall(principal), limiter.admitToolCall(principal)]);
      expect(decisions.every((d) => d.allowed)).toBe(true);
      await releaseAll(decisions);
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toEqual([]);
  });

  it('counts blocks for a node with leases off: the cluster never holds more than the cap', async () => {
    const { limiter: perCall } = await nodeWithConnection({ leases: false });
    const principal = capped();
    const onBlock = await hold(1, () => 0, principal);
    const theRest = [];
    for (let i = 0; i < CAP + 2; i++) theRest.push(await perCall.admitToolCall(principal));
    expect(allowedCount(onBlock) + allowedCount(theRest)).toBeLessThanOrEqual(CAP);
    expect(allowedCount(theRest)).toBeGreaterThan(0);
    // The leasing node's idle slots come back when it is refused, up to the cap in all.
    await releaseAll(theRest);
    const all = await hold(CAP + 1, () => 1, principal);
    expect(allowedCount(all) + allowedCount(onBlock)).toBe(CAP);
    await releaseAll([...all, ...onBlock]);
  });

  it("stops counting a dead node's block once its lease expires", async () => {
    const principal = capped();
    const set = `${PREFIX}lease:{${principal.tenantId}}:concurrentToolCalls:tenant:${principal.tenantId}`;
    // A node killed holding a block of 8 whose lease is about to lapse (Redis time).
    const [seconds] = await admin.time();
    await admin.zadd(set, (Number(seconds) + 2) * 1000, 'b:deadbeef:0');
    await admin.hset(`${set}:blocks`, 'deadbeef:0', 8);
    const before = await hold(CAP, (i) => i % NODES, principal);
    expect(allowedCount(before)).toBe(2);
    // Eventually (polled): the dead block stops counting and its slots can be taken.
    const later: LimitDecision[] = [];
    while (allowedCount(later) < CAP - 2) {
      const decision = await nodes[later.length % NODES].admitToolCall(principal);
      if (decision.allowed) later.push(decision);
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(allowedCount(await hold(3, (i) => i % NODES, principal))).toBe(0);
    await releaseAll([...before, ...later]);
  });

  it('hands its idle slots back when it closes, so the others can use them', async () => {
    const { limiter } = await nodeWithConnection();
    const principal = capped();
    const mine = await limiter.admitToolCall(principal);
    if (mine.allowed) await mine.release?.();
    await limiter.close();
    const set = `${PREFIX}lease:{${principal.tenantId}}:concurrentToolCalls:tenant:${principal.tenantId}`;
    expect(await admin.hlen(`${set}:blocks`)).toBe(0);
    const all = await hold(CAP + 1, (i) => i % NODES, principal);
    expect(allowedCount(all)).toBe(CAP);
    await releaseAll(all);
  });
});

describe('Limiter with leased blocks when Redis goes away', () => {
  let proxy: TcpProxy;
  beforeAll(async () => (proxy = await startTcpProxy(testRedisUrl())));
  afterAll(async () => proxy.close());

  it('stops admitting from its blocks and lets the failure mode decide', async () => {
    const errors: string[] = [];
    const { limiter, redis } = await nodeWithConnection({ failureMode: 'closed', onStoreError: (_e, limit) => errors.push(limit) }, proxy.url);
    const principal = tenant({ requestsPerMinute: 600 });
    expect((await limiter.consumeRequest(principal)).allowed).toBe(true);
    const sent = countCommands(redis);
    expect((await limiter.consumeRequest(principal)).allowed).toBe(true);
    expect(sent).toEqual([]); // from the block
    const closed = new Promise((resolve) => redis.once('close', resolve));
    await proxy.cut();
    await closed;
    expect(await limiter.consumeRequest(principal)).toMatchObject({ allowed: false, reason: 'store-unavailable' });
    expect(errors).toContain('requestsPerMinute');
  });
});
