import type { Redis } from 'ioredis';
import type { MemoryLeaseStore } from './lease-store';

/**
 * All of a check in one EVALSHA: a request's per-minute windows (key, then tenant), or a tool
 * call's per-minute windows, monthly quota and in-flight lease (key and tenant sets); plus the
 * releases of this node's finished calls that are waiting to be sent. Measured against one rate-limiter-flexible EVALSHA
 * per window and one lease script (docs/decisions.md): the CPU of a Redis command is mostly
 * ioredis's per-command work, so one command instead of two to four is what saves it.
 *
 * Every check is decided before anything is consumed: a check refused by any window or lease set
 * spends no other window, quota or slot (a refused tool call must not use up the minute's
 * budget, nor a key's window when its tenant's refuses). Then all windows take `units` and all
 * sets the lease. The windows are rate-limiter-flexible's keys, counted as its script does
 * (SET NX EX, INCRBY, PTTL, EXPIRE if the TTL was lost), so nodes on either code share one
 * budget; this script only reads a window it does not consume.
 *
 * KEYS: windows, then lease sets, then sets to release from.
 * ARGV: #windows, #lease sets, lease TTL ms, lease member, units, (limit, window seconds) per
 *       window, limit per lease set, member per set to release from.
 * Reply: admitted {0, 0, used1, pttl1, ..., usedN, pttlN}; window `index` refused
 * {1, index, used, pttl}, `used` before this check; lease set `index` full {2, index}.
 */
const COMBINED_CHECK_SCRIPT = `
local nw = tonumber(ARGV[1])
local nl = tonumber(ARGV[2])
local units = tonumber(ARGV[5])
for i = nw + nl + 1, #KEYS do
  redis.call('ZREM', KEYS[i], ARGV[5 + nw + i])
end
local used = {}
for i = 1, nw do
  local current = redis.call('GET', KEYS[i])
  used[i] = current and tonumber(current) or false
  local before = used[i] or 0
  if before + units > tonumber(ARGV[4 + 2 * i]) then
    local seconds = ARGV[5 + 2 * i]
    local pttl = redis.call('PTTL', KEYS[i])
    if pttl == -1 then redis.call('EXPIRE', KEYS[i], seconds) end
    if pttl < 0 then pttl = 1000 * tonumber(seconds) end
    return {1, i, before, pttl}
  end
end
local now, ttl, member
if nl > 0 then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  ttl = tonumber(ARGV[3])
  member = ARGV[4]
  for j = 1, nl do
    local set = KEYS[nw + j]
    redis.call('ZREMRANGEBYSCORE', set, '-inf', now)
    if not redis.call('ZSCORE', set, member) and redis.call('ZCARD', set) >= tonumber(ARGV[5 + 2 * nw + j]) then
      return {2, j}
    end
  end
end
local reply = {0, 0}
for i = 1, nw do
  local key = KEYS[i]
  local seconds = ARGV[5 + 2 * i]
  local pttl
  if used[i] then
    reply[2 * i + 1] = redis.call('INCRBY', key, units)
    pttl = redis.call('PTTL', key)
    if pttl == -1 then
      redis.call('EXPIRE', key, seconds)
      pttl = 1000 * tonumber(seconds)
    end
  else
    redis.call('SET', key, units, 'EX', seconds)
    reply[2 * i + 1] = units
    pttl = 1000 * tonumber(seconds)
  end
  reply[2 * i + 2] = pttl
end
for j = 1, nl do
  redis.call('ZADD', KEYS[nw + j], now + ttl, member)
  redis.call('PEXPIRE', KEYS[nw + j], ttl)
end
return reply
`;

// KEYS: sets; ARGV: the member to remove from each, in the same order.
const RELEASE_BATCH_SCRIPT = `
for i = 1, #KEYS do redis.call('ZREM', KEYS[i], ARGV[i]) end
return 0
`;

/** Spent windows a node refuses locally until they reset; expired entries are dropped past this size. */
const MAX_BLOCKED_WINDOWS = 10_000;

export const CHECK_ADMITTED = 0;
export const CHECK_WINDOW_REFUSED = 1;
export const CHECK_LEASE_FULL = 2;

/**
 * One admission's checks, decided together and consumed only when all pass; the reply is the
 * script's (above) in either store.
 */
export interface CombinedChecks {
  /** `windowArgs` holds (limit, window seconds) per window key; `setLimits` one limit per lease set. */
  check(windowKeys: string[], windowArgs: number[], units: number, sets: string[], setLimits: number[], member: string): Promise<number[]>;
  /** Gives back the lease `member` holds in `sets`; never rejects. */
  release(sets: string[], member: string): Promise<void>;
  /** Sends what is still queued, e.g. before closing. */
  flush(): Promise<void>;
}

interface CombinedCheckCommands {
  sbLimitsCheck(args: (string | number)[]): Promise<number[]>;
  sbLeaseReleaseBatch(args: (string | number)[]): Promise<number>;
}

/** Releases waiting for the next check or the end of the tick, whichever comes first. */
interface ReleaseBatch {
  sets: string[];
  members: string[];
  done: Promise<void>;
  settle: () => void;
}

/**
 * Sends the combined script and batches lease releases: releases of one tick go out together in
 * one command, or ride along in a check sent before the tick ends. A release is seen by
 * other nodes at most one event-loop turn later than when it was sent on its own.
 */
export class RedisCombinedChecks implements CombinedChecks {
  private readonly commands: CombinedCheckCommands;
  private pending: ReleaseBatch | undefined;
  /** Window key -> until when (ms) it is spent: refused here without asking Redis. */
  private readonly blocked = new Map<string, number>();
  private readonly flushPending = () => this.flush();

  constructor(
    redis: Redis,
    private readonly leaseTtlMs: number,
    private readonly onReleaseError: (error: Error) => void,
  ) {
    redis.defineCommand('sbLimitsCheck', { lua: COMBINED_CHECK_SCRIPT });
    redis.defineCommand('sbLeaseReleaseBatch', { lua: RELEASE_BATCH_SCRIPT });
    this.commands = redis as unknown as CombinedCheckCommands;
  }

  /** Throws when Redis cannot be asked; the folded releases then expire with their lease TTL. */
  async check(windowKeys: string[], windowArgs: number[], units: number, sets: string[], setLimits: number[], member: string): Promise<number[]> {
    const nowMs = Date.now();
    for (let i = 0; i < windowKeys.length; i++) {
      const until = this.blocked.get(windowKeys[i]);
      if (until === undefined) continue;
      if (until > nowMs) return [CHECK_WINDOW_REFUSED, i + 1, windowArgs[2 * i], until - nowMs];
      this.blocked.delete(windowKeys[i]);
    }
    const batch = this.pending;
    this.pending = undefined;
    const releases = batch ? batch.sets.length : 0;
    const args: (string | number)[] = [windowKeys.length + sets.length + releases];
    for (const key of windowKeys) args.push(key);
    for (const set of sets) args.push(set);
    if (batch) for (const set of batch.sets) args.push(set);
    args.push(windowKeys.length, sets.length, this.leaseTtlMs, member, units);
    for (const value of windowArgs) args.push(value);
    for (const limit of setLimits) args.push(limit);
    if (batch) for (const m of batch.members) args.push(m);
    try {
      const reply = await this.commands.sbLimitsCheck(args);
      this.blockSpent(windowKeys, windowArgs, reply, nowMs);
      return reply;
    } catch (error) {
      if (batch) this.onReleaseError(error as Error);
      throw error;
    } finally {
      batch?.settle();
    }
  }

  /**
   * As rate-limiter-flexible's inMemoryBlockOnConsumed: a spent window costs no more commands until
   * it resets. A batch refused for want of room does not block it: smaller ones may still fit.
   */
  private blockSpent(windowKeys: string[], windowArgs: number[], reply: number[], nowMs: number): void {
    if (reply[0] === CHECK_WINDOW_REFUSED) {
      const i = reply[1] - 1;
      if (reply[2] >= windowArgs[2 * i]) this.block(windowKeys[i], nowMs + reply[3]);
    } else if (reply[0] === CHECK_ADMITTED) {
      for (let i = 0; i < windowKeys.length; i++) if (reply[2 + 2 * i] >= windowArgs[2 * i]) this.block(windowKeys[i], nowMs + reply[3 + 2 * i]);
    }
  }

  private block(key: string, until: number): void {
    if (this.blocked.size >= MAX_BLOCKED_WINDOWS) {
      const now = Date.now();
      for (const [k, u] of this.blocked) if (u <= now) this.blocked.delete(k);
    }
    this.blocked.set(key, until);
  }

  /** Queues the release of `member` from `sets`; resolves once it was sent and answered (never rejects). */
  release(sets: string[], member: string): Promise<void> {
    let batch = this.pending;
    if (!batch) {
      let settle!: () => void;
      const done = new Promise<void>((resolve) => (settle = resolve));
      batch = this.pending = { sets: [], members: [], done, settle };
      setImmediate(this.flushPending);
    }
    for (const set of sets) {
      batch.sets.push(set);
      batch.members.push(member);
    }
    return batch.done;
  }

  async flush(): Promise<void> {
    const batch = this.pending;
    if (!batch) return;
    this.pending = undefined;
    try {
      await this.commands.sbLeaseReleaseBatch([batch.sets.length, ...batch.sets, ...batch.members]);
    } catch (error) {
      // Not fatal: the leases expire by themselves within one TTL.
      this.onReleaseError(error as Error);
    } finally {
      batch.settle();
    }
  }
}

interface MemoryWindow {
  used: number;
  resetAt: number;
}

/** Expired windows are dropped this often; a live one is never touched by the sweep. */
const WINDOW_SWEEP_INTERVAL_MS = 60_000;
const RELEASED: Promise<void> = Promise.resolve();

/**
 * Embedded mode: the same decisions as the script, on this process's windows and leases. All of
 * a check runs synchronously, so concurrent checks cannot slip between its decision and its
 * consumption. Windows expire by timestamp, not by timer (a month is longer than a timer can wait).
 */
export class MemoryCombinedChecks implements CombinedChecks {
  private readonly windows = new Map<string, MemoryWindow>();
  private nextSweepAt = 0;

  constructor(private readonly leases: MemoryLeaseStore) {}

  check(windowKeys: string[], windowArgs: number[], units: number, sets: string[], setLimits: number[], member: string): Promise<number[]> {
    return Promise.resolve(this.checkNow(windowKeys, windowArgs, units, sets, setLimits, member));
  }

  release(sets: string[], member: string): Promise<void> {
    this.leases.releaseNow(sets, member);
    return RELEASED;
  }

  async flush(): Promise<void> {}

  private checkNow(windowKeys: string[], windowArgs: number[], units: number, sets: string[], setLimits: number[], member: string): number[] {
    const now = Date.now();
    if (now >= this.nextSweepAt) this.sweep(now);
    for (let i = 0; i < windowKeys.length; i++) {
      const window = this.live(windowKeys[i], now);
      const used = window?.used ?? 0;
      if (used + units > windowArgs[2 * i]) return [CHECK_WINDOW_REFUSED, i + 1, used, window ? window.resetAt - now : 1000 * windowArgs[2 * i + 1]];
    }
    if (sets.length > 0) {
      const lease = this.leases.acquireNow(sets, setLimits, member);
      if (!lease.acquired) return [CHECK_LEASE_FULL, lease.fullSlot + 1];
    }
    const reply = [CHECK_ADMITTED, 0];
    for (let i = 0; i < windowKeys.length; i++) {
      let window = this.live(windowKeys[i], now);
      if (!window) this.windows.set(windowKeys[i], (window = { used: 0, resetAt: now + 1000 * windowArgs[2 * i + 1] }));
      window.used += units;
      reply.push(window.used, window.resetAt - now);
    }
    return reply;
  }

  private live(key: string, now: number): MemoryWindow | undefined {
    const window = this.windows.get(key);
    if (window && window.resetAt <= now) {
      this.windows.delete(key);
      return undefined;
    }
    return window;
  }

  private sweep(now: number): void {
    this.nextSweepAt = now + WINDOW_SWEEP_INTERVAL_MS;
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
  }
}
