import type { Redis } from 'ioredis';

/**
 * All of a check in one EVALSHA: a request's per-minute windows (key, then tenant), or a tool
 * call's per-minute windows, monthly quota and in-flight lease (key and tenant sets); plus the
 * releases of this node's finished calls that are waiting to be sent. Measured against one rate-limiter-flexible EVALSHA
 * per window and one lease script (docs/decisions.md): the CPU of a Redis command is mostly
 * ioredis's per-command work, so one command instead of two to four is what saves it.
 *
 * The windows are rate-limiter-flexible's: the same keys and the same steps as its script (SET NX
 * EX, INCRBY, PTTL, EXPIRE if the TTL was lost), so nodes on either code share one budget.
 * Checks run in order and stop at the first refusal: a key refused at its own window leaves its
 * tenant's window untouched, and the quota is only spent when the per-minute windows admit.
 * A lease refusal leaves the windows spent, as the separate checks did.
 *
 * KEYS: windows, then lease sets, then sets to release from.
 * ARGV: #windows, #lease sets, lease TTL ms, lease member, (limit, window seconds) per window,
 *       limit per lease set, member per set to release from.
 * Reply: {status, index, consumed1, pttl1, ..., consumedN, pttlN, leaseCount1, ...}; status 0 =
 * admitted; 1 = window `index` refused (entries up to it); 2 = lease set `index` full.
 */
const COMBINED_CHECK_SCRIPT = `
local nw = tonumber(ARGV[1])
local nl = tonumber(ARGV[2])
for i = nw + nl + 1, #KEYS do
  redis.call('ZREM', KEYS[i], ARGV[4 + nw + i])
end
local reply = {0, 0}
for i = 1, nw do
  local key = KEYS[i]
  local seconds = ARGV[4 + 2 * i]
  redis.call('SET', key, 0, 'EX', seconds, 'NX')
  local consumed = redis.call('INCRBY', key, 1)
  local pttl = redis.call('PTTL', key)
  if pttl == -1 then
    redis.call('EXPIRE', key, seconds)
    pttl = 1000 * tonumber(seconds)
  end
  reply[2 * i + 1] = consumed
  reply[2 * i + 2] = pttl
  if consumed > tonumber(ARGV[3 + 2 * i]) then
    reply[1] = 1
    reply[2] = i
    return reply
  end
end
if nl == 0 then return reply end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ttl = tonumber(ARGV[3])
local member = ARGV[4]
for j = 1, nl do
  local set = KEYS[nw + j]
  redis.call('ZREMRANGEBYSCORE', set, '-inf', now)
  local count = redis.call('ZCARD', set)
  local held = redis.call('ZSCORE', set, member)
  if not held and count >= tonumber(ARGV[4 + 2 * nw + j]) then
    reply[1] = 2
    reply[2] = j
    reply[2 * nw + 2 + j] = count
    return reply
  end
  reply[2 * nw + 2 + j] = held and count or count + 1
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

export const CHECK_WINDOW_REFUSED = 1;
export const CHECK_LEASE_FULL = 2;

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
export class RedisCombinedChecks {
  private readonly commands: CombinedCheckCommands;
  private pending: ReleaseBatch | undefined;
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

  /**
   * `windowArgs` holds (limit, window seconds) per window key; `setLimits` one limit per lease set.
   * Throws when Redis cannot be asked; the folded releases then expire with their lease TTL.
   */
  async check(windowKeys: string[], windowArgs: number[], sets: string[], setLimits: number[], member: string): Promise<number[]> {
    const batch = this.pending;
    this.pending = undefined;
    const releases = batch ? batch.sets.length : 0;
    const args: (string | number)[] = [windowKeys.length + sets.length + releases];
    for (const key of windowKeys) args.push(key);
    for (const set of sets) args.push(set);
    if (batch) for (const set of batch.sets) args.push(set);
    args.push(windowKeys.length, sets.length, this.leaseTtlMs, member);
    for (const value of windowArgs) args.push(value);
    for (const limit of setLimits) args.push(limit);
    if (batch) for (const m of batch.members) args.push(m);
    try {
      return await this.commands.sbLimitsCheck(args);
    } catch (error) {
      if (batch) this.onReleaseError(error as Error);
      throw error;
    } finally {
      batch?.settle();
    }
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

  /** Sends what is still queued, e.g. before closing. */
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
