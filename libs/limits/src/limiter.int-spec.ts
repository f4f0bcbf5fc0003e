import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { testRedisUrl } from '@switchboard/testing';
import type { LimitDecision, LimitPrincipal } from './limit-decision';
import { DEFAULT_LEASE_TTL_MS, LIMITER_REDIS_OPTIONS, Limiter, type LimiterOptions } from './limiter';

// Own key prefix: parallel test files and other work on this Redis never share a budget with us.
const PREFIX = `sb:test:${randomBytes(4).toString('hex')}:limits:`;
const NODES = 3;

const connections: Redis[] = [];
const limiters: Limiter[] = [];

/** Without an offline queue, a command sent before the connection is ready fails (and fails open). */
function ready(redis: Redis): Promise<unknown> {
  return redis.status === 'ready' ? Promise.resolve() : new Promise((resolve) => redis.once('ready', resolve));
}

/**
 * The production options with a longer command timeout: a command stalled on a loaded machine
 * would fail open and admit one extra request, which exact-count tests would misread.
 */
const TEST_REDIS_OPTIONS = { ...LIMITER_REDIS_OPTIONS, commandTimeout: 5_000 };

/** One "gateway node": its own Redis connection and limiter, the same key prefix. */
async function nodeWithConnection(options: Partial<LimiterOptions> = {}): Promise<{ limiter: Limiter; redis: Redis }> {
  const redis = new Redis(testRedisUrl(), TEST_REDIS_OPTIONS);
  connections.push(redis);
  const limiter = new Limiter({ redis, keyPrefix: PREFIX, ...options });
  limiters.push(limiter);
  await ready(redis);
  return { limiter, redis };
}

async function node(options: Partial<LimiterOptions> = {}): Promise<Limiter> {
  return (await nodeWithConnection(options)).limiter;
}

function tenant(overrides: LimitPrincipal['tenantLimits'] = {}, keyLimits: LimitPrincipal['keyLimits'] = {}): LimitPrincipal {
  return { tenantId: randomUUID(), keyId: randomUUID(), tenantLimits: overrides, keyLimits };
}

const allowedCount = (decisions: LimitDecision[]) => decisions.filter((d) => d.allowed).length;

/** A refusal by the tenant's monthly quota, which resets when the (UTC) month ends. */
function expectRefusedByMonthlyQuota(decisions: LimitDecision[], quota: number): void {
  const refused = decisions.find((d) => !d.allowed);
  expect(refused).toMatchObject({ scope: 'tenant', limit: 'monthlyToolCalls', limitValue: quota });
  const now = new Date();
  const secondsToMonthEnd = (Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1) - now.getTime()) / 1000;
  if (refused && !refused.allowed) expect(Math.abs(refused.resetSeconds - secondsToMonthEnd)).toBeLessThan(5);
}

/** A loopback port nobody listens on: connections to it are refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let nodes: Limiter[];
let admin: Redis;

beforeAll(async () => {
  admin = new Redis(testRedisUrl());
  nodes = await Promise.all(Array.from({ length: NODES }, () => node()));
});

afterAll(async () => {
  await Promise.all(limiters.map((l) => l.close()));
  const keys = await admin.keys(`${PREFIX}*`);
  if (keys.length) await admin.del(...keys);
  for (const c of [...connections, admin]) c.disconnect();
});

describe('Limiter on Redis shared by three nodes', () => {
  it('admits exactly 60 of 90 concurrent requests against a 60/min tenant limit', async () => {
    const principal = tenant({ requestsPerMinute: 60 });
    const decisions = await Promise.all(Array.from({ length: 90 }, (_, i) => nodes[i % NODES].consumeRequest(principal)));
    expect(allowedCount(decisions)).toBe(60);
    const refused = decisions.find((d) => !d.allowed);
    expect(refused).toMatchObject({ allowed: false, scope: 'tenant', limit: 'requestsPerMinute', limitValue: 60, remaining: 0, reason: 'limit-reached' });
    if (refused && !refused.allowed) {
      expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(refused.retryAfterSeconds).toBeLessThanOrEqual(60);
    }
  });

  it('stops a key at its own tighter limit without using up its tenant budget', async () => {
    const noisy = tenant({ requestsPerMinute: 10 }, { requestsPerMinute: 3 });
    const quietKey = { ...noisy, keyId: randomUUID(), keyLimits: {} };
    const noisyDecisions = [];
    for (let i = 0; i < 8; i++) noisyDecisions.push(await nodes[i % NODES].consumeRequest(noisy));
    expect(allowedCount(noisyDecisions)).toBe(3);
    expect(noisyDecisions[3]).toMatchObject({ allowed: false, scope: 'key', limitValue: 3 });
    // 10 - 3 = 7 requests left for the tenant's other keys.
    const quietDecisions = await Promise.all(Array.from({ length: 9 }, (_, i) => nodes[i % NODES].consumeRequest(quietKey)));
    expect(allowedCount(quietDecisions)).toBe(7);
  });

  it('does not limit what is unlimited', async () => {
    const principal = tenant({ requestsPerMinute: null });
    const decisions = await Promise.all(Array.from({ length: 50 }, (_, i) => nodes[i % NODES].consumeRequest(principal)));
    expect(allowedCount(decisions)).toBe(50);
  });

  it('caps open sessions across nodes, counts one session once, and frees a slot on release', async () => {
    const principal = tenant({ concurrentSessions: 2 });
    const first = await nodes[0].acquireSession(principal, 's1');
    expect((await nodes[1].acquireSession(principal, 's1')).allowed).toBe(true); // same session again
    const second = await nodes[1].acquireSession(principal, 's2');
    expect(second.allowed).toBe(true);
    const third = await nodes[2].acquireSession(principal, 's3');
    expect(third).toMatchObject({ allowed: false, scope: 'tenant', limit: 'concurrentSessions', limitValue: 2 });

    if (first.allowed) await first.release!();
    expect((await nodes[2].acquireSession(principal, 's3')).allowed).toBe(true);
    // Releasing from another node (session terminated through the admin API) works as well.
    await nodes[0].releaseSession(principal, 's2');
    expect((await nodes[0].acquireSession(principal, 's4')).allowed).toBe(true);
  });

  it('caps in-flight tool calls across nodes under concurrency', async () => {
    const principal = tenant({ concurrentToolCalls: 3 });
    const decisions = await Promise.all(Array.from({ length: 12 }, (_, i) => nodes[i % NODES].acquireToolCall(principal)));
    expect(allowedCount(decisions)).toBe(3);
    for (const d of decisions) if (d.allowed) await d.release!();
    const after = await Promise.all(Array.from({ length: 5 }, (_, i) => nodes[i % NODES].acquireToolCall(principal)));
    expect(allowedCount(after)).toBe(3);
  });

  it('stops counting the leases of a node that died once they expire', async () => {
    const principal = tenant({ concurrentSessions: 1 });
    const dead = await node();
    expect((await dead.acquireSession(principal, 'orphan')).allowed).toBe(true);
    await dead.close(); // no more renewals, as after kill -9
    expect((await nodes[0].acquireSession(principal, 'next')).allowed).toBe(false);
    // Let the lease's time run out: move its expiry into the past instead of waiting 30 s.
    const sets = await admin.keys(`${PREFIX}lease:{${principal.tenantId}}:*`);
    expect(sets).toHaveLength(1);
    await admin.zadd(sets[0], 'XX', 1, 'session:orphan');
    expect((await nodes[0].acquireSession(principal, 'next')).allowed).toBe(true);
  });

  it("renews a live holder's leases so they keep counting", async () => {
    const holder = await node();
    const principal = tenant({ concurrentSessions: 1 });
    expect((await holder.acquireSession(principal, 'live')).allowed).toBe(true);
    const [set] = await admin.keys(`${PREFIX}lease:{${principal.tenantId}}:*`);
    // As if the lease were about to run out...
    await admin.zadd(set, 'XX', Date.now() + 50, 'session:live');
    await holder.renewLeases();
    // ...the renewal (which the holder's timer runs every TTL/3) pushes it a full TTL ahead.
    const expiresIn = Number(await admin.zscore(set, 'session:live')) - Date.now();
    expect(expiresIn).toBeGreaterThan(DEFAULT_LEASE_TTL_MS - 5_000);
    expect((await nodes[1].acquireSession(principal, 'other')).allowed).toBe(false);
  });

  it('runs the renewal on a timer', async () => {
    const holder = await node({ leaseTtlMs: 300 });
    const renewed = new Promise<void>((resolve) => {
      const original = holder.renewLeases.bind(holder);
      holder.renewLeases = async () => {
        await original();
        resolve();
      };
    });
    await renewed;
  });

  it('refuses tool calls once the monthly quota is used, until the month ends', async () => {
    const principal = tenant({ monthlyToolCalls: 5, toolCallsPerMinute: null });
    const decisions = await Promise.all(Array.from({ length: 8 }, (_, i) => nodes[i % NODES].consumeToolCall(principal)));
    expect(allowedCount(decisions)).toBe(5);
    expectRefusedByMonthlyQuota(decisions, 5);
  });

  it('costs one Redis command per request check, whatever the scopes, and one per lease', async () => {
    const { limiter, redis } = await nodeWithConnection();
    const principal = tenant({}, { requestsPerMinute: 5 });
    await limiter.consumeRequest(principal); // loads the scripts (EVALSHA falls back to EVAL once)
    await limiter.acquireToolCall(principal);
    const sent: string[] = [];
    const original = redis.sendCommand.bind(redis);
    redis.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
      sent.push(command.name);
      return (original as (...args: unknown[]) => unknown)(command, ...rest);
    }) as typeof redis.sendCommand;

    await limiter.consumeRequest(tenant());
    expect(sent).toEqual(['evalsha']); // tenant only: the key inherits, so it adds no check
    sent.length = 0;
    await limiter.consumeRequest(principal);
    expect(sent).toEqual(['evalsha']); // key, then tenant, in one script
    sent.length = 0;
    await limiter.consumeRequest(principal, 3);
    expect(sent).toEqual(['evalsha']); // a batch too
    sent.length = 0;
    const call = await limiter.acquireToolCall(principal);
    expect(sent).toEqual(['evalsha']);
    sent.length = 0;
    if (call.allowed) await call.release!();
    expect(sent).toEqual(['evalsha']);
  });

  it("costs one Redis command for all of a tool call's checks, and batches the releases (leases off: per-call slots)", async () => {
    // With leases a call far from its caps costs none (limits-leases.int-spec.ts); this is the per-call path.
    const { limiter, redis } = await nodeWithConnection({ leases: false });
    // Key and tenant windows, the monthly quota, key and tenant in-flight sets.
    const principal = tenant({ monthlyToolCalls: 1_000 }, { toolCallsPerMinute: 100, concurrentToolCalls: 5 });
    const warm = await limiter.admitToolCall(principal); // loads the scripts
    if (warm.allowed) await warm.release!();
    const sent: string[] = [];
    const original = redis.sendCommand.bind(redis);
    redis.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
      sent.push(command.name);
      return (original as (...args: unknown[]) => unknown)(command, ...rest);
    }) as typeof redis.sendCommand;

    const first = await limiter.admitToolCall(principal);
    expect(sent).toEqual(['evalsha']);
    sent.length = 0;
    // Two releases in one tick go out as one command...
    if (first.allowed) void first.release!();
    const second = await limiter.admitToolCall(principal); // ...or ride along in the next check.
    expect(sent).toEqual(['evalsha']);
    sent.length = 0;
    const third = await limiter.admitToolCall(principal);
    sent.length = 0;
    await Promise.all([second, third].map((d) => (d.allowed ? d.release!() : undefined)));
    expect(sent).toEqual(['evalsha']);
    const sets = await admin.keys(`${PREFIX}lease:{${principal.tenantId}}:concurrentToolCalls:*`);
    for (const set of sets) expect(await admin.zcard(set)).toBe(0);
  });
});

describe('Limiter.admitToolCall on Redis shared by three nodes', () => {
  const admit = (principal: LimitPrincipal, count: number) =>
    Promise.all(Array.from({ length: count }, (_, i) => nodes[i % NODES].admitToolCall(principal)));

  it('admits exactly 60 of 90 concurrent tool calls against a 60/min tenant limit', async () => {
    const principal = tenant({ toolCallsPerMinute: 60, concurrentToolCalls: null });
    const decisions = await admit(principal, 90);
    expect(allowedCount(decisions)).toBe(60);
    const refused = decisions.find((d) => !d.allowed);
    expect(refused).toMatchObject({ allowed: false, scope: 'tenant', limit: 'toolCallsPerMinute', limitValue: 60, remaining: 0, reason: 'limit-reached', windowSeconds: 60 });
    if (refused && !refused.allowed) {
      expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(refused.retryAfterSeconds).toBeLessThanOrEqual(60);
    }
  });

  it('shares the window with the separate consumeToolCall check', async () => {
    const principal = tenant({ toolCallsPerMinute: 10, concurrentToolCalls: null });
    expect(allowedCount(await Promise.all(Array.from({ length: 6 }, () => nodes[0].consumeToolCall(principal))))).toBe(6);
    expect(allowedCount(await admit(principal, 8))).toBe(4);
  });

  it('stops a key at its own tighter limit without using up its tenant budget', async () => {
    const noisy = tenant({ toolCallsPerMinute: 10, concurrentToolCalls: null }, { toolCallsPerMinute: 3 });
    const quietKey = { ...noisy, keyId: randomUUID(), keyLimits: {} };
    const noisyDecisions = [];
    for (let i = 0; i < 8; i++) noisyDecisions.push(await nodes[i % NODES].admitToolCall(noisy));
    expect(allowedCount(noisyDecisions)).toBe(3);
    expect(noisyDecisions[3]).toMatchObject({ allowed: false, scope: 'key', limit: 'toolCallsPerMinute', limitValue: 3 });
    expect(allowedCount(await admit(quietKey, 9))).toBe(7);
  });

  it('caps in-flight tool calls across nodes, at key and tenant scope, and frees slots on release', async () => {
    const principal = tenant({ concurrentToolCalls: 3 });
    const decisions = await admit(principal, 12);
    expect(allowedCount(decisions)).toBe(3);
    expect(decisions.find((d) => !d.allowed)).toMatchObject({ scope: 'tenant', limit: 'concurrentToolCalls', limitValue: 3, retryAfterSeconds: 1 });
    await Promise.all(decisions.map((d) => (d.allowed ? d.release!() : undefined)));
    expect(allowedCount(await admit(principal, 5))).toBe(3);

    const tightKey = tenant({ concurrentToolCalls: 5 }, { concurrentToolCalls: 1 });
    const held = await admit(tightKey, 3);
    expect(allowedCount(held)).toBe(1);
    expect(held.find((d) => !d.allowed)).toMatchObject({ scope: 'key', limitValue: 1 });
  });

  it('stops counting the in-flight leases of a node that died once they expire', async () => {
    const principal = tenant({ concurrentToolCalls: 1 });
    const dead = await node();
    expect((await dead.admitToolCall(principal)).allowed).toBe(true);
    await dead.close();
    expect((await nodes[0].admitToolCall(principal)).allowed).toBe(false);
    // The lease set (its blocks hash and reclaimed flag beside it): the dead node's slot is one member.
    const sets = (await admin.keys(`${PREFIX}lease:{${principal.tenantId}}:*`)).filter((key) => !/:(blocks|reclaimed)$/.test(key));
    expect(sets).toHaveLength(1);
    const members = await admin.zrange(sets[0], 0, '-1');
    expect(members).toHaveLength(1);
    await admin.zadd(sets[0], 'XX', 1, members[0]);
    expect((await nodes[0].admitToolCall(principal)).allowed).toBe(true);
  });

  it('refuses once the monthly quota is used, until the month ends, without spending it on refused windows', async () => {
    const principal = tenant({ monthlyToolCalls: 5, toolCallsPerMinute: null, concurrentToolCalls: null });
    const decisions = await admit(principal, 8);
    expect(allowedCount(decisions)).toBe(5);
    expectRefusedByMonthlyQuota(decisions, 5);

    const windowFirst = tenant({ monthlyToolCalls: 5, toolCallsPerMinute: 2, concurrentToolCalls: null });
    expect(allowedCount(await admit(windowFirst, 4))).toBe(2);
    const [quotaKey] = await admin.keys(`${PREFIX}rl:monthlyToolCalls:tenant:${windowFirst.tenantId}:*`);
    expect(await admin.get(quotaKey)).toBe('2');
  });

  it('reports the tightest window when admitted', async () => {
    const principal = tenant({ toolCallsPerMinute: 50, monthlyToolCalls: 1_000, concurrentToolCalls: null }, { toolCallsPerMinute: 20 });
    const decision = await nodes[0].admitToolCall(principal);
    expect(decision).toMatchObject({ allowed: true, state: { scope: 'key', limit: 'toolCallsPerMinute', limitValue: 20, remaining: 19, windowSeconds: 60 } });
  });
});

describe('Limiter on Redis: a refused admission consumes nothing', () => {
  // These read the windows in Redis, so their nodes check per call: with leases a window also
  // counts the blocks nodes hold. limits-leases.int-spec.ts shows the same with leases, by
  // what the cluster still admits afterwards.
  let perCall: Limiter[];
  beforeAll(async () => (perCall = await Promise.all(Array.from({ length: NODES }, () => node({ leases: false })))));
  const admit = (principal: LimitPrincipal, count: number) =>
    Promise.all(Array.from({ length: count }, (_, i) => perCall[i % NODES].admitToolCall(principal)));
  const releaseAll = (decisions: LimitDecision[]) => Promise.all(decisions.map((d) => (d.allowed ? d.release!() : undefined)));
  const windowKey = (limit: string, scope: 'key' | 'tenant', id: string) => `${PREFIX}rl:${limit}:${scope}:${id}`;

  it('does not spend the window or the quota on tool calls refused by the in-flight cap', async () => {
    const principal = tenant({ toolCallsPerMinute: 60, concurrentToolCalls: 5, monthlyToolCalls: 1_000 });
    const held = await admit(principal, 200);
    expect(allowedCount(held)).toBe(5);
    expect(held.find((d) => !d.allowed)).toMatchObject({ scope: 'tenant', limit: 'concurrentToolCalls', limitValue: 5 });
    await releaseAll(held);
    expect(await admin.get(windowKey('toolCallsPerMinute', 'tenant', principal.tenantId))).toBe('5');
    const [quotaKey] = await admin.keys(`${PREFIX}rl:monthlyToolCalls:tenant:${principal.tenantId}:*`);
    expect(await admin.get(quotaKey)).toBe('5');
    const next = await perCall[1].admitToolCall(principal);
    expect(next).toMatchObject({ allowed: true, state: { limit: 'toolCallsPerMinute', remaining: 60 - 5 - 1 } });
    await releaseAll([next]);
  });

  it('does not spend the key window on tool calls refused by the in-flight cap', async () => {
    const principal = tenant({ concurrentToolCalls: 2 }, { toolCallsPerMinute: 50 });
    await releaseAll(await admit(principal, 30));
    expect(await admin.get(windowKey('toolCallsPerMinute', 'key', principal.keyId))).toBe('2');
  });

  it('does not take an in-flight slot for a call its window refuses', async () => {
    const principal = tenant({ toolCallsPerMinute: 2, concurrentToolCalls: 5 });
    const held = await admit(principal, 6);
    expect(allowedCount(held)).toBe(2);
    expect(held.find((d) => !d.allowed)).toMatchObject({ limit: 'toolCallsPerMinute' });
    const [set] = await admin.keys(`${PREFIX}lease:{${principal.tenantId}}:concurrentToolCalls:*`);
    expect(await admin.zcard(set)).toBe(2);
    await releaseAll(held);
  });

  it('does not spend the per-minute windows on tool calls the monthly quota refuses', async () => {
    const principal = tenant({ monthlyToolCalls: 2, toolCallsPerMinute: 10, concurrentToolCalls: null }, { toolCallsPerMinute: 5 });
    expect(allowedCount(await admit(principal, 6))).toBe(2);
    expect(await admin.get(windowKey('toolCallsPerMinute', 'key', principal.keyId))).toBe('2');
    expect(await admin.get(windowKey('toolCallsPerMinute', 'tenant', principal.tenantId))).toBe('2');
  });

  it("does not spend a key's window on requests its tenant's window refuses", async () => {
    const other = tenant({ requestsPerMinute: 5 });
    const tight = { ...other, keyId: randomUUID(), keyLimits: { requestsPerMinute: 3 } };
    expect(allowedCount(await Promise.all(Array.from({ length: 5 }, (_, i) => nodes[i % NODES].consumeRequest(other))))).toBe(5);
    const refused = await Promise.all(Array.from({ length: 4 }, (_, i) => nodes[i % NODES].consumeRequest(tight)));
    expect(allowedCount(refused)).toBe(0);
    expect(refused[0]).toMatchObject({ scope: 'tenant', limit: 'requestsPerMinute' });
    expect(await admin.get(windowKey('requestsPerMinute', 'key', tight.keyId))).toBeNull();
  });

  it("does not spend a key's window on tool calls its tenant's window refuses", async () => {
    const other = tenant({ toolCallsPerMinute: 3, concurrentToolCalls: null });
    const tight = { ...other, keyId: randomUUID(), keyLimits: { toolCallsPerMinute: 2 } };
    expect(allowedCount(await admit(other, 3))).toBe(3);
    expect(allowedCount(await admit(tight, 3))).toBe(0);
    expect(await admin.get(windowKey('toolCallsPerMinute', 'key', tight.keyId))).toBeNull();
  });
});

describe('Limiter on Redis: a batch of requests', () => {
  const windowKey = (principal: LimitPrincipal) => `${PREFIX}rl:requestsPerMinute:tenant:${principal.tenantId}`;

  it('admits whole batches only, across nodes, up to the limit', async () => {
    const principal = tenant({ requestsPerMinute: 60 });
    // 30 batches of 7 at once: 8 fit (56), the 22 others consume nothing.
    const decisions = await Promise.all(Array.from({ length: 30 }, (_, i) => nodes[i % NODES].consumeRequest(principal, 7)));
    expect(allowedCount(decisions)).toBe(8);
    expect(decisions.find((d) => !d.allowed)).toMatchObject({ scope: 'tenant', limit: 'requestsPerMinute', limitValue: 60, reason: 'limit-reached' });
    expect(await admin.get(windowKey(principal))).toBe('56');
  });

  it('refuses a batch bigger than what is left and consumes nothing', async () => {
    const principal = tenant({ requestsPerMinute: 10 });
    expect(await nodes[0].consumeRequest(principal, 7)).toMatchObject({ allowed: true, state: { remaining: 3 } });
    const refused = await nodes[1].consumeRequest(principal, 4);
    expect(refused).toMatchObject({ allowed: false, reason: 'limit-reached', scope: 'tenant', limit: 'requestsPerMinute', limitValue: 10, remaining: 3, windowSeconds: 60 });
    if (!refused.allowed) {
      expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(refused.retryAfterSeconds).toBeLessThanOrEqual(60);
    }
    expect(await admin.get(windowKey(principal))).toBe('7');
    expect(await nodes[2].consumeRequest(principal, 3)).toMatchObject({ allowed: true, state: { remaining: 0 } });
    expect(await nodes[0].consumeRequest(principal)).toMatchObject({ allowed: false, remaining: 0 });
  });

  it("refuses a batch that fits the key's window but not its tenant's, consuming neither", async () => {
    const other = tenant({ requestsPerMinute: 10 });
    const tight = { ...other, keyId: randomUUID(), keyLimits: { requestsPerMinute: 5 } };
    await nodes[0].consumeRequest(other, 7);
    expect(await nodes[1].consumeRequest(tight, 4)).toMatchObject({ allowed: false, scope: 'tenant', remaining: 3 });
    expect(await admin.get(`${PREFIX}rl:requestsPerMinute:key:${tight.keyId}`)).toBeNull();
    expect(await nodes[2].consumeRequest(tight, 3)).toMatchObject({ allowed: true, state: { scope: 'tenant', remaining: 0 } });
    expect(await admin.get(`${PREFIX}rl:requestsPerMinute:key:${tight.keyId}`)).toBe('3');
  });

  it('refuses a batch bigger than the limit itself without creating its window', async () => {
    const principal = tenant({ requestsPerMinute: 10 });
    expect(await nodes[0].consumeRequest(principal, 11)).toMatchObject({ allowed: false, remaining: 10, retryAfterSeconds: 60 });
    expect(await admin.exists(windowKey(principal))).toBe(0);
    expect(await nodes[1].consumeRequest(principal, 10)).toMatchObject({ allowed: true, state: { remaining: 0 } });
  });

  it('counts on the same window as rate-limiter-flexible nodes of the previous release', async () => {
    // As an old node leaves it: SET NX EX + INCRBY, past the limit on its refusals.
    const principal = tenant({ requestsPerMinute: 10 });
    await admin.set(windowKey(principal), 8, 'EX', 60);
    expect(await nodes[0].consumeRequest(principal, 3)).toMatchObject({ allowed: false, remaining: 2 });
    expect(await nodes[0].consumeRequest(principal, 2)).toMatchObject({ allowed: true, state: { remaining: 0 } });
    expect(await admin.get(windowKey(principal))).toBe('10');
  });
});

describe('Limiter when Redis is unreachable', () => {
  let port: number;
  beforeAll(async () => (port = await closedPort()));

  function unreachableNode(failureMode: 'open' | 'closed') {
    const errors: string[] = [];
    const redis = new Redis({ host: '127.0.0.1', port, ...LIMITER_REDIS_OPTIONS });
    redis.on('error', () => undefined);
    connections.push(redis);
    const limiter = new Limiter({ redis, keyPrefix: PREFIX, failureMode, onStoreError: (_error, limit) => errors.push(limit) });
    limiters.push(limiter);
    return { limiter, errors };
  }

  it('fails open by default: admits, and counts the store error', async () => {
    const { limiter, errors } = unreachableNode('open');
    const principal = tenant({ requestsPerMinute: 1, concurrentSessions: 1 });
    expect((await limiter.consumeRequest(principal)).allowed).toBe(true);
    expect((await limiter.consumeRequest(principal)).allowed).toBe(true);
    expect((await limiter.acquireSession(principal, 's')).allowed).toBe(true);
    expect(errors).toEqual(['requestsPerMinute', 'requestsPerMinute', 'concurrentSessions']);
    expect(limiter.storeErrors).toBe(3);
  });

  it('fails closed when configured: refuses with store-unavailable', async () => {
    const { limiter, errors } = unreachableNode('closed');
    const decision = await limiter.consumeToolCall(tenant());
    expect(decision).toMatchObject({ allowed: false, reason: 'store-unavailable', limit: 'toolCallsPerMinute', retryAfterSeconds: 1 });
    expect(errors).toEqual(['toolCallsPerMinute']);
  });

  it("fails open or closed on a tool call's combined check, counting each limit it covers", async () => {
    const open = unreachableNode('open');
    const principal = tenant({ monthlyToolCalls: 10 });
    const admitted = await open.limiter.admitToolCall(principal);
    expect(admitted.allowed).toBe(true);
    expect(open.errors).toEqual(['toolCallsPerMinute', 'monthlyToolCalls', 'concurrentToolCalls']);

    const closed = unreachableNode('closed');
    expect(await closed.limiter.admitToolCall(principal)).toMatchObject({ allowed: false, reason: 'store-unavailable', limit: 'toolCallsPerMinute', scope: 'tenant' });
  });
});
