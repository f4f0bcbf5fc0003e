import type { Redis } from 'ioredis';
import type { MemoryLeaseStore } from './lease-store';
import { WindowLeases, type BlockHandover, type LocalAdmission } from './window-leases';
import { RECLAIMED_SLOTS_MS, SlotBlocks, type SlotReturn } from './slot-blocks';
import { COMBINED_CHECK_SCRIPT, RELEASE_BATCH_SCRIPT, RETURN_BLOCKS_SCRIPT, SLOT_BLOCKS_SCRIPT } from './limit-scripts';

/**
 * Windows longer than this (the monthly quota) lease small blocks: a node killed with `kill -9`
 * strands its unused units until the window ends, a month for the quota, a minute for the rest.
 */
const LONG_WINDOW_SECONDS = 3_600;
export const MAX_LONG_WINDOW_BLOCK = 100;

/** Spent windows a node refuses locally until they reset; expired entries are dropped past this size. */
const MAX_BLOCKED_WINDOWS = 10_000;
/**
 * How long a refused check waits for other nodes to give back their blocks before it retries. A
 * live node answers within a round trip or two; only a dead or cut-off one lets this run out,
 * and then once per window and node (its units come back when the window resets).
 */
export const RECLAIM_WAIT_MS = 1_000;
/** A refused check retries at most this often after the holders answered (or the wait ran out). */
const RECLAIM_ROUNDS = 3;
/** Blocks of ended windows are dropped this often. */
const LEASE_SWEEP_INTERVAL_MS = 60_000;

export const CHECK_ADMITTED = 0;
/** The second value of an admitted reply: the call's slots are on this node's blocks, no member of its own to renew. */
export const ADMITTED_ON_BLOCKS = 1;
export const CHECK_WINDOW_REFUSED = 1;
export const CHECK_LEASE_FULL = 2;

/** Windows a check that goes to Redis anyway may top up: (limit, window seconds) per key, nothing consumed. */
export interface WindowTopUps {
  keys: string[];
  args: number[];
}

/**
 * One admission's checks, decided together and consumed only when all pass; the reply is the
 * script's (above) in either store, with the count of a window meaning what is used of it.
 */
export interface CombinedChecks {
  /** `windowArgs` holds (limit, window seconds) per window key; `setLimits` one limit per lease set. */
  check(windowKeys: string[], windowArgs: number[], units: number, sets: string[], setLimits: number[], member: string, topUps?: WindowTopUps): Promise<number[]>;
  /** Gives back the lease `member` holds in `sets`; never rejects. */
  release(sets: string[], member: string): Promise<void>;
  /** Sends what is still queued, e.g. before closing. */
  flush(): Promise<void>;
  /** Renews this node's slot blocks (and hands back idle ones); with the other lease renewals. */
  renewBlocks(): Promise<void>;
  /** Gives back what is held and stops listening; after the last check. */
  close(): Promise<void>;
}

interface CombinedCheckCommands {
  sbLimitsCheck(args: (string | number)[]): Promise<number[]>;
  sbLeaseReleaseBatch(args: (string | number)[]): Promise<number>;
  sbLimitsReturnBlocks(args: (string | number)[]): Promise<number>;
  sbLimitsSlotBlocks(args: (string | number)[]): Promise<number>;
}

/** Releases waiting for the next check or the end of the tick, whichever comes first. */
interface ReleaseBatch {
  sets: string[];
  members: string[];
  done: Promise<void>;
  settle: () => void;
}

/** Leases of window units (see WindowLeases): on unless the operator turned them off. */
export interface WindowLeaseOptions {
  /** This limiter's id in the holders hashes; unique per process life. */
  nodeId: string;
  /** Set of the nodes that leased recently, to size blocks by. */
  nodesKey: string;
  reclaimChannel: string;
  returnedChannel: string;
  /** Lease sets' keys start with this: a reclaim of one is about slots, not window units. */
  leaseSetPrefix: string;
  /** A connection of its own for the two channels (a subscribed connection can send nothing else). */
  subscriber: Redis;
}

/** One window as the script gets it. */
interface ScriptWindow {
  key: string;
  limit: number;
  seconds: number;
  units: number;
  maxBlock: number;
  handover: BlockHandover;
  /** Index in the caller's windows, or -1 for a top-up. */
  index: number;
}

interface ReturnWaiter {
  /** Nodes that held blocks when the check was refused. */
  holders: string[];
  /** Answers heard after this message count. */
  since: number;
  resolve: () => void;
}

/**
 * Sends the combined script and batches lease releases: releases of one tick go out together in
 * one command, or ride along in a check sent before the tick ends. A release is seen by
 * other nodes at most one event-loop turn later than when it was sent on its own.
 *
 * With leases, a window's units are admitted from this node's block while it lasts (no command),
 * and the block is refilled by the next check that has to go to Redis anyway (a tool call's
 * in-flight lease). Near the limit blocks shrink below MIN_LEASE_BLOCK and every check goes to
 * Redis; a refusal while other nodes hold blocks asks them back and retries once they answered.
 */
export class RedisCombinedChecks implements CombinedChecks {
  private readonly commands: CombinedCheckCommands;
  private pending: ReleaseBatch | undefined;
  /** Window key -> until when (ms) it is spent: refused here without asking Redis. */
  private readonly blocked = new Map<string, number>();
  private readonly flushPending = () => this.flush();
  private readonly leases: WindowLeases | undefined;
  /** Per window: when (in messages heard) each other node last handed it back, and checks waiting for some. */
  private readonly returnsHeard = new Map<string, Map<string, number>>();
  private heardSeq = 0;
  private readonly returnWaiters = new Map<string, ReturnWaiter[]>();
  /** Windows whose reclaim went unanswered: no more waiting for them until they reset. */
  private readonly reclaimGaveUp = new Map<string, number>();
  private nextSweepAt = 0;
  /** In-flight slot blocks (see SlotBlocks), with leases on. */
  private readonly slots: SlotBlocks | undefined;
  /** Calls admitted on blocks: member -> the blocks' generation. */
  private readonly onBlocks = new Map<string, number>();
  /** Slots to hand back at the end of the tick, per set. */
  private slotReturns = new Map<string, number>();
  private readonly flushSlotReturns = () => void this.sendSlotReturns();

  constructor(
    redis: Redis,
    private readonly leaseTtlMs: number,
    private readonly onReleaseError: (error: Error) => void,
    private readonly leaseOptions?: WindowLeaseOptions,
  ) {
    redis.defineCommand('sbLimitsCheck', { lua: COMBINED_CHECK_SCRIPT });
    redis.defineCommand('sbLeaseReleaseBatch', { lua: RELEASE_BATCH_SCRIPT });
    redis.defineCommand('sbLimitsReturnBlocks', { lua: RETURN_BLOCKS_SCRIPT });
    redis.defineCommand('sbLimitsSlotBlocks', { lua: SLOT_BLOCKS_SCRIPT });
    this.commands = redis as unknown as CombinedCheckCommands;
    if (leaseOptions) {
      const leases = (this.leases = new WindowLeases());
      const slots = (this.slots = new SlotBlocks());
      // Lost connection: stop admitting from blocks, so the failure mode decides as before.
      redis.on('close', () => {
        leases.suspend();
        slots.suspend();
        this.slotReturns.clear();
      });
      const subscriber = leaseOptions.subscriber;
      subscriber.on('message', (channel: string, message: string) => this.heard(channel, message));
      subscriber.on('error', () => undefined);
      subscriber.subscribe(leaseOptions.reclaimChannel, leaseOptions.returnedChannel).catch(() => undefined);
    }
  }

  /** Throws when Redis cannot be asked; the folded releases then expire with their lease TTL. */
  async check(windowKeys: string[], windowArgs: number[], units: number, sets: string[], setLimits: number[], member: string, topUps?: WindowTopUps): Promise<number[]> {
    return this.run(windowKeys, windowArgs, units, sets, setLimits, member, topUps, 0);
  }

  private async run(
    windowKeys: string[],
    windowArgs: number[],
    units: number,
    sets: string[],
    setLimits: number[],
    member: string,
    topUps: WindowTopUps | undefined,
    round: number,
  ): Promise<number[]> {
    const nowMs = Date.now();
    for (let i = 0; i < windowKeys.length; i++) {
      const until = this.blocked.get(windowKeys[i]);
      if (until === undefined) continue;
      if (until > nowMs) return [CHECK_WINDOW_REFUSED, i + 1, windowArgs[2 * i], until - nowMs];
      this.blocked.delete(windowKeys[i]);
    }
    const leases = this.leases;
    if (leases && nowMs >= this.nextSweepAt) this.sweep(nowMs);

    // From the local blocks first: a check they cover entirely costs no command.
    const local: (LocalAdmission | undefined)[] = [];
    let allLocal = true;
    for (let i = 0; i < windowKeys.length; i++) {
      local[i] = leases?.take(windowKeys[i], units, nowMs);
      if (!local[i]) allLocal = false;
    }
    // In-flight slots from this node's blocks (with leases): a call they and the windows cover costs no command.
    const slots = this.slots;
    const localSlot: boolean[] = [];
    for (let j = 0; j < sets.length; j++) {
      localSlot[j] = slots ? slots.take(sets[j], nowMs) : false;
      if (!localSlot[j]) allLocal = false;
    }
    if (allLocal) {
      if (sets.length > 0) this.onBlocks.set(member, slots!.generation);
      return admittedReply(local as LocalAdmission[], sets.length > 0);
    }
    const generation = slots?.generation ?? 0;
    const setArgs: number[] = [];
    for (let j = 0; j < sets.length; j++) {
      const wanted = localSlot[j] ? 0 : 1;
      const maxExtra = slots && !localSlot[j] && slots.mayLease(sets[j], nowMs) ? Number.MAX_SAFE_INTEGER : 0;
      setArgs.push(setLimits[j], wanted, maxExtra);
    }

    const windows: ScriptWindow[] = [];
    for (let i = 0; i < windowKeys.length; i++) {
      const key = windowKeys[i];
      const limit = windowArgs[2 * i];
      const seconds = windowArgs[2 * i + 1];
      if (!leases) {
        windows.push({ key, limit, seconds, units, maxBlock: 0, handover: NO_HANDOVER, index: i });
      } else if (local[i]) {
        if (leases.low(key, nowMs)) windows.push({ key, limit, seconds, units: 0, maxBlock: maxBlock(seconds), handover: leases.settle(key), index: i });
      } else {
        const maxUnits = leases.mayLease(key, nowMs) ? maxBlock(seconds) : 0;
        windows.push({ key, limit, seconds, units, maxBlock: maxUnits, handover: leases.handOver(key), index: i });
      }
    }
    if (leases && topUps) {
      for (let i = 0; i < topUps.keys.length; i++) {
        const key = topUps.keys[i];
        if (!leases.low(key, nowMs) || windowKeys.includes(key)) continue;
        const seconds = topUps.args[2 * i + 1];
        windows.push({ key, limit: topUps.args[2 * i], seconds, units: 0, maxBlock: maxBlock(seconds), handover: leases.settle(key), index: -1 });
      }
    }

    let reply: number[];
    const heardBefore = this.heardSeq;
    try {
      reply = await this.send(windows, sets, setArgs, member, slots ? this.slotField(generation) : '');
    } catch (error) {
      this.untake(windowKeys, units, local);
      this.untakeSlots(sets, localSlot);
      throw error;
    }

    const status = reply[0];
    if (status === CHECK_LEASE_FULL) {
      this.untake(windowKeys, units, local);
      this.untakeSlots(sets, localSlot);
      const set = sets[reply[1] - 1];
      // Blocks granted to this node's checks sent together with this one may have arrived first:
      // a free slot of this node's own is taken from the block, without asking Redis again.
      if (slots && sets.every((s, j) => localSlot[j] || slots.hasFree(s, nowMs))) {
        return this.run(windowKeys, windowArgs, units, sets, setLimits, member, topUps, round);
      }
      const asked = reply[2] === 1;
      const holders = (reply as unknown[]).slice(3) as unknown as string[];
      const waiting = this.returnWaiters.get(set);
      if (holders.length > 0 && (asked || waiting) && round < RECLAIM_ROUNDS && !this.gaveUp(set, nowMs)) {
        // Other nodes hold blocks of this cap: asked (by this check, or one of this node's waiting
        // for it) to hand their idle slots back; retry once each answered. A cap whose holders were
        // asked before and answered holds no idle slots (they check per call since): refused at once.
        const since = asked ? heardBefore : Math.min(...waiting!.map((w) => w.since));
        const answered = await this.returns(set, holders, since);
        if (!answered) this.reclaimGaveUp.set(set, nowMs + RECLAIMED_SLOTS_MS);
        return this.run(windowKeys, windowArgs, units, sets, setLimits, member, topUps, answered ? round + 1 : RECLAIM_ROUNDS);
      }
      return [CHECK_LEASE_FULL, reply[1]];
    }
    if (status === CHECK_WINDOW_REFUSED) {
      this.untake(windowKeys, units, local);
      const refused = windows[reply[1] - 1];
      const [before, pttl] = [reply[2], reply[3]];
      const holders = (reply as unknown[]).slice(4) as unknown as string[];
      if (holders.length > 0 && round < RECLAIM_ROUNDS && !this.gaveUp(refused.key, nowMs)) {
        // Other nodes hold units of this window: the script asked them to hand them back and
        // grants no more blocks of it, and this node checks it per call from now on too; retry
        // once each listed holder answered. A holder may answer before its last units are
        // settled, hence a few rounds.
        void this.giveBack(refused.key);
        const answered = await this.returns(refused.key, holders, heardBefore);
        // A holder that did not answer in time (dead, cut off) is not waited for again: one last try.
        return this.run(windowKeys, windowArgs, units, sets, setLimits, member, topUps, answered ? round + 1 : RECLAIM_ROUNDS);
      }
      // Holders that never answer (a dead node): refuse without asking them again this window.
      if (holders.length > 0) this.reclaimGaveUp.set(refused.key, nowMs + pttl);
      // Spent for good (nobody holds any of it): refuse here until it resets. A batch refused for
      // want of room does not block it: smaller ones may still fit.
      if (holders.length === 0 && before >= refused.limit) this.block(refused.key, nowMs + pttl);
      return [CHECK_WINDOW_REFUSED, refused.index + 1, before, pttl];
    }

    const admitted = [CHECK_ADMITTED, slots && sets.length > 0 ? ADMITTED_ON_BLOCKS : 0];
    if (slots && sets.length > 0) {
      for (let j = 0; j < sets.length; j++) {
        if (localSlot[j]) continue;
        slots.granted(sets[j], generation, 1, reply[2 + 4 * windows.length + 2 * j], reply[3 + 4 * windows.length + 2 * j], nowMs);
        // Granted by a check that was on its way while the cap was reclaimed: the extra goes back at once.
        const surplus = slots.surplusIfReclaimed(sets[j], nowMs);
        if (surplus > 0) void this.slotBlocks([{ set: sets[j], slots: surplus }], true);
      }
      this.onBlocks.set(member, generation);
    }
    for (let i = 0; i < windowKeys.length; i++) admitted.push(0, 0);
    for (let i = 0; i < windowKeys.length; i++) {
      if (local[i]) admitted.splice(2 + 2 * i, 2, local[i]!.used, local[i]!.resetMs);
    }
    for (let j = 0; j < windows.length; j++) {
      const w = windows[j];
      const [count, pttl, extra, epoch] = reply.slice(2 + 4 * j, 6 + 4 * j);
      const state = leases ? leases.granted(w.key, count, extra, pttl, epoch, nowMs) : { used: count, resetMs: pttl };
      // A block granted by a check that was on its way while the window was reclaimed goes back at once.
      if (extra > 0 && !leases!.mayLease(w.key, nowMs)) void this.giveBack(w.key);
      if (w.index >= 0 && !local[w.index]) {
        admitted[2 + 2 * w.index] = state.used;
        admitted[3 + 2 * w.index] = state.resetMs;
        // Without leases a window spent by this check is refused here until it resets. With
        // leases other nodes may still hand units back, so the refusal that says so blocks it.
        if (!leases && count >= w.limit) this.block(w.key, nowMs + pttl);
      }
    }
    return admitted;
  }

  private async send(windows: ScriptWindow[], sets: string[], setArgs: number[], member: string, field: string): Promise<number[]> {
    const batch = this.pending;
    this.pending = undefined;
    const releases = batch ? batch.sets.length : 0;
    const args: (string | number)[] = [2 * windows.length + 1 + 3 * sets.length + releases];
    for (const w of windows) args.push(w.key);
    for (const w of windows) args.push(w.key + HOLDERS_SUFFIX);
    args.push(this.leaseOptions?.nodesKey ?? NO_NODES_KEY);
    for (const set of sets) args.push(set);
    for (const set of sets) args.push(set + BLOCKS_SUFFIX);
    for (const set of sets) args.push(set + RECLAIMED_SUFFIX);
    if (batch) for (const set of batch.sets) args.push(set);
    const lease = this.leaseOptions;
    args.push(windows.length, sets.length, this.leaseTtlMs, member, lease?.nodeId ?? '', lease?.reclaimChannel ?? '', lease?.returnedChannel ?? '', field);
    for (const w of windows) args.push(w.limit, w.seconds, w.units, w.maxBlock, w.handover.ret, w.handover.settle, w.handover.epoch);
    for (const value of setArgs) args.push(value);
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

  private untake(windowKeys: string[], units: number, local: (LocalAdmission | undefined)[]): void {
    for (let i = 0; i < windowKeys.length; i++) if (local[i]) this.leases!.untake(windowKeys[i], units);
  }

  private untakeSlots(sets: string[], localSlot: boolean[]): void {
    for (let j = 0; j < sets.length; j++) if (localSlot[j]) this.slots!.untake(sets[j]);
  }

  /** This node's block in the sets' blocks hashes: its id and the generation of its blocks. */
  private slotField(generation: number): string {
    return `${this.leaseOptions!.nodeId}:${generation}`;
  }

  /** Renews, shrinks or hands back slot blocks (one command for all); `answer` tells the reclaim waiters. */
  private async slotBlocks(returns: SlotReturn[], answer: boolean): Promise<void> {
    if (returns.length === 0) return;
    const lease = this.leaseOptions!;
    const args: (string | number)[] = [2 * returns.length];
    for (const r of returns) args.push(r.set);
    for (const r of returns) args.push(r.set + BLOCKS_SUFFIX);
    args.push(this.leaseTtlMs, lease.nodeId, this.slotField(this.slots!.generation), lease.returnedChannel, answer ? 1 : 0);
    for (const r of returns) args.push(r.slots);
    try {
      await this.commands.sbLimitsSlotBlocks(args);
    } catch (error) {
      // Not fatal: slots not handed back stop counting when the block's lease expires.
      this.onReleaseError(error as Error);
    }
  }

  private queueSlotReturn(set: string, slots: number): void {
    if (this.slotReturns.size === 0) setImmediate(this.flushSlotReturns);
    this.slotReturns.set(set, (this.slotReturns.get(set) ?? 0) + slots);
  }

  private async sendSlotReturns(): Promise<void> {
    const pending = this.slotReturns;
    if (pending.size === 0) return;
    this.slotReturns = new Map();
    await this.slotBlocks([...pending].map(([set, slots]) => ({ set, slots })), false);
  }

  /** Another node was refused by a cap: this node's idle slots of it go back, and it answers (holding some or not). */
  private async answerSlotReclaim(set: string): Promise<void> {
    const slots = this.slots!.reclaim(set, Date.now());
    await this.slotBlocks([{ set, slots }], true);
  }

  async renewBlocks(): Promise<void> {
    const slots = this.slots;
    if (!slots) return;
    const { renew, returns } = slots.renewals(Date.now() - this.leaseTtlMs / SLOT_RENEWALS_PER_TTL);
    await this.slotBlocks([...renew.map((set) => ({ set, slots: 0 })), ...returns], false);
  }

  private gaveUp(key: string, nowMs: number): boolean {
    const until = this.reclaimGaveUp.get(key);
    if (until === undefined) return false;
    if (until > nowMs) return true;
    this.reclaimGaveUp.delete(key);
    return false;
  }

  /** True once each of `holders` handed `key` back after message `since`; false after RECLAIM_WAIT_MS. */
  private returns(key: string, holders: string[], since: number): Promise<boolean> {
    const waiter: ReturnWaiter = { holders, since, resolve: () => undefined };
    if (this.answered(key, waiter)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const list = this.returnWaiters.get(key);
        const at = list?.indexOf(waiter) ?? -1;
        if (list && at >= 0) list.splice(at, 1);
        if (list?.length === 0) this.returnWaiters.delete(key);
        resolve(false);
      }, RECLAIM_WAIT_MS);
      timer.unref();
      waiter.resolve = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const list = this.returnWaiters.get(key) ?? [];
      list.push(waiter);
      this.returnWaiters.set(key, list);
    });
  }

  private answered(key: string, waiter: ReturnWaiter): boolean {
    const heard = this.returnsHeard.get(key);
    return waiter.holders.every((node) => (heard?.get(node) ?? -1) > waiter.since);
  }

  /** A message on the lease channels: another node's refusal asks for a window back, or a node gave one back. */
  private heard(channel: string, message: string): void {
    const options = this.leaseOptions!;
    if (channel === options.reclaimChannel) {
      if (message.startsWith(options.leaseSetPrefix)) void this.answerSlotReclaim(message);
      else void this.giveBack(message);
      return;
    }
    if (channel !== options.returnedChannel) return;
    const space = message.indexOf(' ');
    const node = message.slice(0, space);
    const key = message.slice(space + 1);
    let heard = this.returnsHeard.get(key);
    if (!heard) this.returnsHeard.set(key, (heard = new Map()));
    heard.set(node, ++this.heardSeq);
    const waiters = this.returnWaiters.get(key);
    if (!waiters) return;
    const still = waiters.filter((w) => (this.answered(key, w) ? (w.resolve(), false) : true));
    if (still.length > 0) this.returnWaiters.set(key, still);
    else this.returnWaiters.delete(key);
  }

  /**
   * Hands this node's block of `key` back at once, and checks that window per call until it
   * resets. Holding nothing it sends nothing: a check of ours in flight hands back what Redis
   * still lists, and the script announces that too.
   */
  private async giveBack(key: string): Promise<void> {
    const handover = this.leases!.reclaim(key, Date.now());
    if (!handover || handover.ret + handover.settle === 0) return;
    await this.returnBlocks([{ key, handover }]);
  }

  private async returnBlocks(blocks: { key: string; handover: BlockHandover }[]): Promise<void> {
    if (blocks.length === 0) return;
    const args: (string | number)[] = [2 * blocks.length];
    for (const b of blocks) args.push(b.key);
    for (const b of blocks) args.push(b.key + HOLDERS_SUFFIX);
    args.push(this.leaseOptions!.nodeId, this.leaseOptions!.returnedChannel);
    for (const b of blocks) args.push(b.handover.ret, b.handover.settle, b.handover.epoch);
    try {
      await this.commands.sbLimitsReturnBlocks(args);
    } catch (error) {
      // Not fatal: the units come back when their window resets.
      this.onReleaseError(error as Error);
    }
  }

  private sweep(nowMs: number): void {
    this.nextSweepAt = nowMs + LEASE_SWEEP_INTERVAL_MS;
    this.leases!.sweep(nowMs);
    for (const [key, until] of this.reclaimGaveUp) if (until <= nowMs) this.reclaimGaveUp.delete(key);
    // Counts only matter while a refused check waits; those waits are short.
    for (const key of this.returnsHeard.keys()) if (!this.returnWaiters.has(key)) this.returnsHeard.delete(key);
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
    const generation = this.onBlocks.get(member);
    if (generation !== undefined) {
      // Back to this node's blocks; to Redis only what a reclaimed cap gives up.
      this.onBlocks.delete(member);
      const nowMs = Date.now();
      for (const set of sets) {
        const slots = this.slots!.release(set, generation, nowMs);
        if (slots > 0) this.queueSlotReturn(set, slots);
      }
      return RELEASED;
    }
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

  /** Hands every block back (the other nodes may use the units), sends queued releases, unsubscribes. */
  async close(): Promise<void> {
    if (this.leases) await this.returnBlocks(this.leases.handOverAll());
    if (this.slots) {
      await this.sendSlotReturns();
      await this.slotBlocks(this.slots.handBackAll(), false);
    }
    await this.flush();
    for (const waiters of this.returnWaiters.values()) for (const w of waiters) w.resolve();
    this.returnWaiters.clear();
    this.leaseOptions?.subscriber.disconnect();
  }
}

const HOLDERS_SUFFIX = ':held';
/** A lease set's blocks hash (block field -> slots) and its reclaimed flag. */
const BLOCKS_SUFFIX = ':blocks';
const RECLAIMED_SUFFIX = ':reclaimed';
/** As the Limiter renews leases: a block untouched for one renewal period is handed back. */
const SLOT_RENEWALS_PER_TTL = 3;
/** Without leases the script never touches the nodes set; it still needs a key in its place. */
const NO_NODES_KEY = 'sb:limits:no-leases';
const NO_HANDOVER: BlockHandover = { ret: 0, settle: 0, epoch: 0 };

/** The largest block worth leasing of a window this long (see MAX_LONG_WINDOW_BLOCK). */
function maxBlock(windowSeconds: number): number {
  return windowSeconds > LONG_WINDOW_SECONDS ? MAX_LONG_WINDOW_BLOCK : Number.MAX_SAFE_INTEGER;
}

function admittedReply(local: LocalAdmission[], onBlocks: boolean): number[] {
  const reply = [CHECK_ADMITTED, onBlocks ? ADMITTED_ON_BLOCKS : 0];
  for (const admission of local) reply.push(admission.used, admission.resetMs);
  return reply;
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

  async renewBlocks(): Promise<void> {}

  async close(): Promise<void> {}

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
