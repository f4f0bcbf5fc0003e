import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { ADMITTED_ON_BLOCKS, CHECK_ADMITTED, CHECK_LEASE_FULL, CHECK_WINDOW_REFUSED, RedisCombinedChecks, type WindowLeaseOptions } from './combined-checks';

const KEY = 'sb:limits:rl:requestsPerMinute:tenant:t1';
const LIMIT = 60;

/** A Redis whose scripts answer from a queue the test fills, recording what was sent. */
class FakeRedis extends EventEmitter {
  readonly checks: (string | number)[][] = [];
  readonly returns: (string | number)[][] = [];
  readonly slotBlocks: (string | number)[][] = [];
  replies: (number | string)[][] = [];
  defineCommand(): void {}
  sbLimitsCheck(args: (string | number)[]): Promise<(number | string)[]> {
    this.checks.push(args);
    const reply = this.replies.shift();
    return reply ? Promise.resolve(reply) : Promise.reject(new Error('no reply queued'));
  }
  sbLeaseReleaseBatch(): Promise<number> {
    return Promise.resolve(0);
  }
  sbLimitsReturnBlocks(args: (string | number)[]): Promise<number> {
    this.returns.push(args);
    return Promise.resolve(0);
  }
  sbLimitsSlotBlocks(args: (string | number)[]): Promise<number> {
    this.slotBlocks.push(args);
    return Promise.resolve(0);
  }
}

class FakeSubscriber extends EventEmitter {
  subscribe(): Promise<void> {
    return Promise.resolve();
  }
  disconnect(): void {}
}

function setUp() {
  const redis = new FakeRedis();
  const subscriber = new FakeSubscriber();
  const options: WindowLeaseOptions = {
    nodeId: 'node-a',
    nodesKey: 'sb:limits:lease-nodes',
    reclaimChannel: 'sb:limits:leases:reclaim',
    returnedChannel: 'sb:limits:leases:returned',
    leaseSetPrefix: 'sb:limits:lease:',
    subscriber: subscriber as unknown as Redis,
  };
  const checks = new RedisCombinedChecks(redis as unknown as Redis, 30_000, () => undefined, options);
  const check = (units = 1) => checks.check([KEY], [LIMIT, 60], units, [], [], '');
  return { redis, subscriber, options, checks, check };
}

/** The script's admitted reply for one window: count after, pttl, block granted, window end. */
const admitted = (count: number, extra: number) => [CHECK_ADMITTED, 0, count, 60_000, extra, 5_000_000];
/** What the check sent for its one window: units, max block, returned, settled. */
const sentWindow = (args: (string | number)[]) => {
  const argv = args.slice(1 + Number(args[0]));
  return { units: argv[10], maxBlock: argv[11], ret: argv[12], settle: argv[13] };
};

describe('RedisCombinedChecks with leased window blocks', () => {
  it('admits from the block Redis granted without sending anything, then hands it over with the next check', async () => {
    const { redis, check } = setUp();
    redis.replies.push(admitted(11, 10));
    expect((await check())[0]).toBe(CHECK_ADMITTED);
    for (let i = 0; i < 10; i++) expect(await check()).toEqual([CHECK_ADMITTED, 0, 2 + i, expect.any(Number)]);
    expect(redis.checks).toHaveLength(1);
    redis.replies.push(admitted(12, 0));
    await check();
    expect(sentWindow(redis.checks[1])).toMatchObject({ units: 1, ret: 0, settle: 10 });
  });

  it('sends a batch bigger than what is left in the block to Redis, returning the rest of the block first', async () => {
    const { redis, check } = setUp();
    redis.replies.push(admitted(11, 10));
    await check();
    await check(4);
    redis.replies.push(admitted(14, 0));
    await check(7);
    expect(sentWindow(redis.checks[1])).toMatchObject({ units: 7, ret: 6, settle: 4 });
  });

  it('on a refusal while other nodes hold blocks, waits for each of them to hand theirs back and retries', async () => {
    const { redis, subscriber, options, check } = setUp();
    redis.replies.push([CHECK_WINDOW_REFUSED, 1, LIMIT, 30_000, 'node-b', 'node-c'], admitted(LIMIT, 0));
    const decision = check();
    await new Promise((resolve) => setImmediate(resolve));
    expect(redis.checks).toHaveLength(1);
    subscriber.emit('message', options.returnedChannel, `node-b ${KEY}`);
    await new Promise((resolve) => setImmediate(resolve));
    expect(redis.checks).toHaveLength(1); // node-c has not answered yet
    subscriber.emit('message', options.returnedChannel, `node-c ${KEY}`);
    expect((await decision)[0]).toBe(CHECK_ADMITTED);
    expect(redis.checks).toHaveLength(2);
    // Reclaimed: this node checks that window per call from now on, asking for no block.
    expect(sentWindow(redis.checks[1])).toMatchObject({ maxBlock: 0 });
  });

  it('refuses a window nobody holds blocks of locally until it resets, without asking Redis', async () => {
    const { redis, check } = setUp();
    redis.replies.push([CHECK_WINDOW_REFUSED, 1, LIMIT, 30_000]);
    expect((await check())[0]).toBe(CHECK_WINDOW_REFUSED);
    expect(await check()).toEqual([CHECK_WINDOW_REFUSED, 1, LIMIT, expect.any(Number)]);
    expect(redis.checks).toHaveLength(1);
  });

  it('hands its block back at once when another node asks for the window, and leases none of it after', async () => {
    const { redis, subscriber, options, check } = setUp();
    redis.replies.push(admitted(11, 10));
    await check();
    await check();
    subscriber.emit('message', options.reclaimChannel, KEY);
    await new Promise((resolve) => setImmediate(resolve));
    expect(redis.returns).toHaveLength(1);
    expect(redis.returns[0].slice(-3)).toEqual([9, 1, 5_000_000]);
    redis.replies.push(admitted(3, 0));
    await check();
    expect(sentWindow(redis.checks[1])).toMatchObject({ maxBlock: 0, ret: 0, settle: 0 });
  });

  it('stops admitting from blocks when the connection closes, so the failure mode decides', async () => {
    const { redis, check } = setUp();
    redis.replies.push(admitted(11, 10));
    await check();
    redis.emit('close');
    await expect(check()).rejects.toThrow('no reply queued');
  });

  it('puts a unit back into the block when another check of the same admission refuses', async () => {
    const { redis, checks } = setUp();
    redis.replies.push(admitted(11, 10));
    await checks.check([KEY], [LIMIT, 60], 1, [], [], '');
    redis.replies.push([2, 1]); // the in-flight set is full
    expect((await checks.check([KEY], [LIMIT, 60], 1, ['set'], [5], 'm'))[0]).toBe(2);
    for (let i = 0; i < 10; i++) expect((await checks.check([KEY], [LIMIT, 60], 1, [], [], ''))[0]).toBe(CHECK_ADMITTED);
    expect(redis.checks).toHaveLength(2);
  });
});

const SET = 'sb:limits:lease:{t1}:concurrentToolCalls:tenant:t1';
const CAP = 20;
/** The script's admitted reply for a call with no window and one lease set: the slots granted besides the call's own. */
const slotsGranted = (extra: number, reclaimedMs = 0) => [CHECK_ADMITTED, 0, extra, reclaimedMs];
/** What a check sent for its one lease set (no windows): limit, slots wanted, max block. */
const sentSet = (args: (string | number)[]) => {
  const argv = args.slice(1 + Number(args[0]));
  return { limit: argv[8], wanted: argv[9], maxBlock: argv[10] };
};

describe('RedisCombinedChecks with leased slot blocks', () => {
  let seq = 0;
  const call = (checks: RedisCombinedChecks) => checks.check([], [], 1, [SET], [CAP], `m${seq++}`);

  it('starts calls on the block Redis granted without sending anything, and an ending call frees its slot locally', async () => {
    const { redis, checks } = setUp();
    redis.replies.push(slotsGranted(2)); // this call's slot and 2 more
    expect(await call(checks)).toEqual([CHECK_ADMITTED, ADMITTED_ON_BLOCKS]);
    expect(sentSet(redis.checks[0])).toEqual({ limit: CAP, wanted: 1, maxBlock: Number.MAX_SAFE_INTEGER });
    const second = `m${seq}`;
    expect(await call(checks)).toEqual([CHECK_ADMITTED, ADMITTED_ON_BLOCKS]);
    expect(await call(checks)).toEqual([CHECK_ADMITTED, ADMITTED_ON_BLOCKS]);
    expect(redis.checks).toHaveLength(1);
    await checks.release([SET], second);
    expect(await call(checks)).toEqual([CHECK_ADMITTED, ADMITTED_ON_BLOCKS]);
    expect(redis.checks).toHaveLength(1);
    // The block is full: the next call asks Redis for one more slot (and a block).
    redis.replies.push(slotsGranted(0));
    await call(checks);
    expect(redis.checks).toHaveLength(2);
    expect(redis.slotBlocks).toHaveLength(0);
  });

  it('on a full cap another node holds a block of, waits for that node to answer the reclaim and retries', async () => {
    const { redis, subscriber, options, checks } = setUp();
    redis.replies.push([CHECK_LEASE_FULL, 1, 1, 'node-b'], slotsGranted(0));
    const decision = call(checks);
    await new Promise((resolve) => setImmediate(resolve));
    expect(redis.checks).toHaveLength(1);
    subscriber.emit('message', options.returnedChannel, `node-b ${SET}`);
    expect((await decision)[0]).toBe(CHECK_ADMITTED);
    expect(redis.checks).toHaveLength(2);
  });

  it('refuses at once a full cap whose holders were asked before (they hold no idle slots since)', async () => {
    const { redis, checks } = setUp();
    redis.replies.push([CHECK_LEASE_FULL, 1, 0, 'node-b']);
    expect(await call(checks)).toEqual([CHECK_LEASE_FULL, 1]);
    expect(redis.checks).toHaveLength(1);
  });

  it('hands its idle slots back when another node is refused, answers, and then asks Redis per call', async () => {
    const { redis, subscriber, options, checks } = setUp();
    redis.replies.push(slotsGranted(4));
    await call(checks);
    await call(checks); // 2 of 5 in use
    subscriber.emit('message', options.reclaimChannel, SET);
    await new Promise((resolve) => setImmediate(resolve));
    expect(redis.slotBlocks).toHaveLength(1);
    // KEYS: the set and its blocks hash; ARGV: ttl, node, field, channel, answer, slots handed back.
    expect(redis.slotBlocks[0]).toEqual([2, SET, `${SET}:blocks`, 30_000, 'node-a', 'node-a:0', options.returnedChannel, 1, 3]);
    redis.replies.push(slotsGranted(0));
    const perCall = `m${seq}`;
    await call(checks);
    expect(sentSet(redis.checks[1])).toMatchObject({ wanted: 1, maxBlock: 0 });
    // Its slot goes back to Redis when it ends, at the end of the tick.
    await checks.release([SET], perCall);
    await new Promise((resolve) => setImmediate(resolve));
    expect(redis.slotBlocks[1].slice(-1)).toEqual([1]);
  });

  it('stops starting calls on its blocks when the connection closes, and forgets them', async () => {
    const { redis, checks } = setUp();
    redis.replies.push(slotsGranted(4));
    const first = `m${seq}`;
    await call(checks);
    redis.emit('close');
    await expect(call(checks)).rejects.toThrow('no reply queued');
    // A call of the old blocks ending gives nothing back to the new ones.
    await checks.release([SET], first);
    redis.replies.push(slotsGranted(0));
    await call(checks);
    expect(redis.slotBlocks).toHaveLength(0);
    // A new generation of blocks: the old one is no longer renewed and lapses with its lease.
    expect(redis.checks[2]).toContain('node-a:1');
    expect(redis.checks[0]).toContain('node-a:0');
  });
});

describe('RedisCombinedChecks slot blocks while a cap is reclaimed', () => {
  it('gives each slot Redis granted back when its call ends, once Redis says the cap is reclaimed', async () => {
    const { redis, checks } = setUp();
    redis.replies.push(slotsGranted(0, 4_000));
    await checks.check([], [], 1, [SET], [CAP], 'm1');
    await checks.release([SET], 'm1');
    await new Promise((resolve) => setImmediate(resolve));
    expect(redis.slotBlocks).toHaveLength(1);
    expect(redis.slotBlocks[0].slice(-1)).toEqual([1]);
  });
});
