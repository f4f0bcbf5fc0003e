/**
 * A node's blocks of in-flight slots leased from Redis (the concurrent tool calls caps, key and
 * tenant): the calls it may start without asking Redis. Pure bookkeeping with the caller's clock,
 * so the rules are unit-tested without Redis; `RedisCombinedChecks` sends what it says to send.
 *
 * Redis counts a block as `size` slots of the cap the moment it is granted (a member of the lease
 * set standing for `size` slots, renewed with the node's other leases), so the cluster never runs
 * more calls than the cap. The node runs up to `size` calls on it; a call that ends gives its slot
 * back to the block, not to Redis. Slots go back to Redis when another node is refused (reclaim),
 * when the block sat idle for a renewal period, and on close. A dead node's block stops counting
 * when its lease expires, as per-call leases do.
 *
 * Sizes move by deltas (a grant adds, a return subtracts, in Redis and here alike), so checks in
 * flight together never undo each other. After the connection dropped, the node forgets its blocks
 * and starts a new generation (a new member in Redis): the old one is no longer renewed and lapses
 * within the lease TTL, and calls admitted from it give nothing back to the new one.
 */

interface SlotBlock {
  /** Slots Redis counts for this node's block, as far as the replies so far say. */
  size: number;
  /** Calls running on the block. */
  inUse: number;
  /** After a reclaim, no new block: every call asks Redis and its slot goes back when it ends. */
  perCallUntil: number;
  /** When a call last started or ended here, to hand back blocks that sit idle. */
  lastUsedAt: number;
}

/** What a node hands back to Redis for one lease set. */
export interface SlotReturn {
  set: string;
  slots: number;
}

/** How long a reclaimed set is checked per call before blocks of it are granted again (also the flag's TTL in Redis). */
export const RECLAIMED_SLOTS_MS = 5_000;

export class SlotBlocks {
  private readonly blocks = new Map<string, SlotBlock>();
  /** Bumped when the connection drops: admissions of an older generation give nothing back. */
  private generationNumber = 0;
  private suspended = false;

  get generation(): number {
    return this.generationNumber;
  }

  /** Starts a call on the local block if it has a free slot; false means ask Redis. */
  take(set: string, nowMs: number): boolean {
    const block = this.blocks.get(set);
    if (!block || !this.hasFree(set, nowMs)) return false;
    block.inUse += 1;
    block.lastUsedAt = nowMs;
    return true;
  }

  /** Whether `take` would start a call now. */
  hasFree(set: string, nowMs: number): boolean {
    const block = this.blocks.get(set);
    return !this.suspended && !!block && nowMs >= block.perCallUntil && block.inUse < block.size;
  }

  /** Undoes a `take` whose call was refused by another check. */
  untake(set: string): void {
    const block = this.blocks.get(set);
    if (block && block.inUse > 0) block.inUse -= 1;
  }

  /** Whether a check that asks Redis for this set may ask for a block as well (not right after a reclaim). */
  mayLease(set: string, nowMs: number): boolean {
    const block = this.blocks.get(set);
    return !this.suspended && (!block || nowMs >= block.perCallUntil);
  }

  /**
   * Redis admitted a call on this set: `units` slots (the call's own, 0 or 1) plus `extra` for the
   * block were added to this node's block of `generation`. The call runs on the block. While the
   * set is reclaimed (`reclaimedMs` more, as Redis said) this node too checks it per call, so a
   * node that was asked, and answered, holds no idle slots of it.
   */
  granted(set: string, generation: number, units: number, extra: number, reclaimedMs: number, nowMs: number): void {
    if (generation !== this.generationNumber) return;
    const block = this.block(set, nowMs);
    if (reclaimedMs > 0) block.perCallUntil = Math.max(block.perCallUntil, nowMs + reclaimedMs);
    block.size += units + extra;
    block.inUse += units;
    block.lastUsedAt = nowMs;
    this.suspended = false;
  }

  /**
   * A call of `generation` ended: its slot goes back to the block. Returns the slots to hand back
   * to Redis now: the surplus of a set being reclaimed (each ending call frees its slot for the cluster).
   */
  release(set: string, generation: number, nowMs: number): number {
    if (generation !== this.generationNumber) return 0;
    const block = this.blocks.get(set);
    if (!block || block.inUse === 0) return 0;
    block.inUse -= 1;
    block.lastUsedAt = nowMs;
    return nowMs < block.perCallUntil ? this.surplus(block) : 0;
  }

  /** A slot granted while the set is being reclaimed (a check that was on its way) goes back at once. */
  surplusIfReclaimed(set: string, nowMs: number): number {
    const block = this.blocks.get(set);
    return block && nowMs < block.perCallUntil ? this.surplus(block) : 0;
  }

  /**
   * Another node was refused by this set: hand back every idle slot, and start no call from a block
   * of it until RECLAIMED_SLOTS_MS passed. Returns the slots to hand back (0 when none are idle).
   */
  reclaim(set: string, nowMs: number): number {
    // Also with nothing held yet: a block may be on its way, and goes back when it arrives.
    const block = this.block(set, nowMs);
    block.perCallUntil = nowMs + RECLAIMED_SLOTS_MS;
    return this.surplus(block);
  }

  /**
   * At each renewal: blocks with no call running and none started or ended since `idleSinceMs` are
   * handed back whole and forgotten; the others are to be renewed.
   */
  renewals(idleSinceMs: number): { renew: string[]; returns: SlotReturn[] } {
    const renew: string[] = [];
    const returns: SlotReturn[] = [];
    for (const [set, block] of this.blocks) {
      if (block.inUse === 0 && block.lastUsedAt < idleSinceMs) {
        this.blocks.delete(set);
        if (block.size > 0) returns.push({ set, slots: block.size });
      } else {
        renew.push(set);
      }
    }
    return { renew, returns };
  }

  /** Every slot not in use, e.g. before closing. */
  handBackAll(): SlotReturn[] {
    const returns: SlotReturn[] = [];
    for (const [set, block] of this.blocks) {
      const slots = this.surplus(block);
      if (slots > 0) returns.push({ set, slots });
    }
    return returns;
  }

  /**
   * The connection to Redis dropped: no more calls from blocks (every call asks Redis and the
   * failure mode decides), and the blocks are forgotten: if the outage outlasts the lease TTL
   * Redis stops counting them, so a new generation starts from nothing.
   */
  suspend(): void {
    this.suspended = true;
    this.blocks.clear();
    this.generationNumber += 1;
  }

  /** Calls running and block size of a set, for tests and the bench. */
  peek(set: string): { size: number; inUse: number } | undefined {
    const block = this.blocks.get(set);
    return block && { size: block.size, inUse: block.inUse };
  }

  private block(set: string, nowMs: number): SlotBlock {
    let block = this.blocks.get(set);
    if (!block) this.blocks.set(set, (block = { size: 0, inUse: 0, perCallUntil: 0, lastUsedAt: nowMs }));
    return block;
  }

  private surplus(block: SlotBlock): number {
    const slots = block.size - block.inUse;
    block.size = block.inUse;
    return slots;
  }
}
