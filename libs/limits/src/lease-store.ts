import type { Redis } from 'ioredis';

/**
 * Concurrency caps (open sessions, in-flight tool calls) as leases.
 *
 * Why a sorted set of lease ids scored by expiry, rather than INCR/DECR counters: a node that dies
 * never sends its DECRs, and a counter would stay inflated forever. TTL'd keys, one per lease,
 * would expire correctly but cannot be counted without SCAN. In a sorted set each member carries
 * its own expiry, so "purge expired, count, add" is one atomic script, and leases of a dead node
 * vanish by themselves within one TTL. Holders renew their leases while they hold them.
 *
 * Redis time (TIME inside the script) is used for expiries, so clock skew between nodes is harmless.
 */
export interface LeaseSlot {
  /** Name of the set holding this scope's leases. */
  set: string;
  limit: number;
}

export type AcquireResult = { acquired: true; counts: number[] } | { acquired: false; fullSlot: number; count: number };

export interface LeaseStore {
  acquire(slots: LeaseSlot[], member: string): Promise<AcquireResult>;
  release(sets: string[], member: string): Promise<void>;
  /** Sends several renewals at once (one round trip with Redis). */
  renewMany(leases: { sets: string[]; member: string }[]): Promise<void>;
}

// KEYS: one set per slot, then each set's blocks hash (a node's block of slots, leased by
// RedisCombinedChecks, counts as its size). ARGV: ttlMs, member, then one limit per slot.
// Returns {0, count1, count2, ...} when acquired, {slotIndex, count} when that slot is full.
const ACQUIRE_SCRIPT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ttl = tonumber(ARGV[1])
local member = ARGV[2]
local n = #KEYS / 2
local counts = {}
for i = 1, n do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
  local count = redis.call('ZCARD', KEYS[i])
  local flat = redis.call('HGETALL', KEYS[n + i])
  for k = 1, #flat, 2 do
    if redis.call('ZSCORE', KEYS[i], 'b:' .. flat[k]) then count = count - 1 + tonumber(flat[k + 1]) end
  end
  local held = redis.call('ZSCORE', KEYS[i], member)
  if not held and count >= tonumber(ARGV[i + 2]) then
    return { i, count }
  end
  counts[i] = held and count or count + 1
end
for i = 1, n do
  redis.call('ZADD', KEYS[i], now + ttl, member)
  redis.call('PEXPIRE', KEYS[i], ttl)
end
table.insert(counts, 1, 0)
return counts
`;

// Only extends leases that still exist (XX): a lease released from another node stays released.
const RENEW_SCRIPT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], 'XX', now + tonumber(ARGV[1]), ARGV[2])
  redis.call('PEXPIRE', KEYS[i], ARGV[1])
end
return 0
`;

const RELEASE_SCRIPT = `
for i = 1, #KEYS do redis.call('ZREM', KEYS[i], ARGV[1]) end
return 0
`;

interface LeaseCommands {
  sbLeaseAcquire(numKeys: number, ...args: (string | number)[]): Promise<number[]>;
  sbLeaseRenew(numKeys: number, ...args: (string | number)[]): Promise<number>;
  sbLeaseRelease(numKeys: number, ...args: (string | number)[]): Promise<number>;
}

export class RedisLeaseStore implements LeaseStore {
  private readonly commands: LeaseCommands;

  constructor(
    private readonly redis: Redis,
    private readonly ttlMs: number,
  ) {
    // defineCommand sends EVALSHA and falls back to EVAL once if the script is not cached yet.
    redis.defineCommand('sbLeaseAcquire', { lua: ACQUIRE_SCRIPT });
    redis.defineCommand('sbLeaseRenew', { lua: RENEW_SCRIPT });
    redis.defineCommand('sbLeaseRelease', { lua: RELEASE_SCRIPT });
    this.commands = redis as unknown as LeaseCommands;
  }

  async acquire(slots: LeaseSlot[], member: string): Promise<AcquireResult> {
    const reply = await this.commands.sbLeaseAcquire(
      2 * slots.length,
      ...slots.map((s) => s.set),
      ...slots.map((s) => `${s.set}:blocks`),
      this.ttlMs,
      member,
      ...slots.map((s) => s.limit),
    );
    const [first, ...rest] = reply.map(Number);
    return first === 0 ? { acquired: true, counts: rest } : { acquired: false, fullSlot: first - 1, count: rest[0] };
  }

  async renewMany(leases: { sets: string[]; member: string }[]): Promise<void> {
    if (leases.length === 0) return;
    const pipeline = this.redis.pipeline() as unknown as LeaseCommands & { exec(): Promise<[Error | null, unknown][] | null> };
    for (const lease of leases) void pipeline.sbLeaseRenew(lease.sets.length, ...lease.sets, this.ttlMs, lease.member);
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([error]) => error);
    if (failed) throw failed[0];
  }

  async release(sets: string[], member: string): Promise<void> {
    await this.commands.sbLeaseRelease(sets.length, ...sets, member);
  }
}

/** Embedded mode: one process holds every lease, and they die with it, so no expiry is needed. */
export class MemoryLeaseStore implements LeaseStore {
  private readonly sets = new Map<string, Set<string>>();

  async acquire(slots: LeaseSlot[], member: string): Promise<AcquireResult> {
    return this.acquireNow(
      slots.map((s) => s.set),
      slots.map((s) => s.limit),
      member,
    );
  }

  /** Synchronous, for a combined check that must decide and take in one step. */
  acquireNow(sets: string[], limits: number[], member: string): AcquireResult {
    const counts: number[] = [];
    for (let index = 0; index < sets.length; index++) {
      const members = this.sets.get(sets[index]);
      const count = members?.size ?? 0;
      const held = members?.has(member) ?? false;
      if (!held && count >= limits[index]) return { acquired: false, fullSlot: index, count };
      counts.push(held ? count : count + 1);
    }
    for (const set of sets) {
      let members = this.sets.get(set);
      if (!members) this.sets.set(set, (members = new Set()));
      members.add(member);
    }
    return { acquired: true, counts };
  }

  async renewMany(): Promise<void> {}

  async release(sets: string[], member: string): Promise<void> {
    this.releaseNow(sets, member);
  }

  releaseNow(sets: string[], member: string): void {
    for (const set of sets) {
      const members = this.sets.get(set);
      members?.delete(member);
      if (members?.size === 0) this.sets.delete(set);
    }
  }
}
