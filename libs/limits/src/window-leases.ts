/**
 * A node's blocks of window units leased from Redis (per-minute windows and the monthly quota):
 * the units it may admit without asking Redis. Pure bookkeeping with the caller's clock, so the
 * rules are unit-tested without Redis; `RedisCombinedChecks` sends what it says to send.
 *
 * Redis counts a block as used the moment it is granted, so the cluster can never admit more than
 * the limit. What a node has not admitted yet goes back as `ret` (subtracted from the window),
 * what it admitted as `settle` (only taken off its entry in the window's holders hash), the next
 * time it speaks to Redis about that window, or at once when another node asks for it back.
 * Both are deltas, so checks of one node in flight together never undo each other's grants.
 */

/** What a node hands back for one window: `ret` unused units, `settle` admitted ones, for the window ending at `epoch`. */
export interface BlockHandover {
  ret: number;
  settle: number;
  /** The window's end in Redis time (ms) when the block was granted; 0 when nothing is held. */
  epoch: number;
}

/** What a local admission knows of the window: enough for the RateLimit headers. */
export interface LocalAdmission {
  /** Units used in the window as this node last saw it, its own admissions since included. */
  used: number;
  /** Milliseconds until the window resets. */
  resetMs: number;
}

interface Block {
  /** Units this node may still admit. */
  avail: number;
  /** Units granted and not yet handed back or settled. */
  unsettled: number;
  /** Redis's count of the window at the last reply, minus `avail`: what is used, as far as we know. */
  used: number;
  epoch: number;
  /** Local time (ms) the block stops being usable: the window's end, measured from before the request was sent. */
  usableUntil: number;
  /** The connection dropped since the grant: keep the units to give back, admit none. */
  suspended: boolean;
  /** Size of the last grant, to tell when the block runs low. */
  lastGrant: number;
  /** After a reclaim, this window is checked per call on this node until it resets. */
  perCallUntil: number;
}

/** A block is kept a little past its window's end, as Redis's end is a round trip later than ours. */
const ENDED_WINDOW_GRACE_MS = 5_000;

/**
 * Two replies name the same window when their window ends are this close: Redis's clock moves
 * between them (about a millisecond), and a new window starts a whole window length later.
 * The script uses the same slack.
 */
export const SAME_WINDOW_SLACK_MS = 1_000;

/** A window reclaimed whose end this node does not know stays per call this long (a window's length). */
const RECLAIMED_PER_CALL_MS = 60_000;

const NOTHING: BlockHandover = { ret: 0, settle: 0, epoch: 0 };

export class WindowLeases {
  private readonly blocks = new Map<string, Block>();

  /** Admits `units` from the local block if it has them; `undefined` means ask Redis. */
  take(key: string, units: number, nowMs: number): LocalAdmission | undefined {
    const block = this.blocks.get(key);
    if (!block || block.suspended || block.avail < units || nowMs >= block.usableUntil) return undefined;
    block.avail -= units;
    block.used += units;
    return { used: block.used, resetMs: block.usableUntil - nowMs };
  }

  /** Undoes a `take` whose admission was refused by another check (e.g. the in-flight cap). */
  untake(key: string, units: number): void {
    const block = this.blocks.get(key);
    if (!block) return;
    block.avail += units;
    block.used -= units;
  }

  /** Whether checks of this window may ask Redis for a block (not right after a reclaim). */
  mayLease(key: string, nowMs: number): boolean {
    const block = this.blocks.get(key);
    return !block || nowMs >= block.perCallUntil;
  }

  /** A block worth topping up on a check that goes to Redis anyway: none, or under half its last grant. */
  low(key: string, nowMs: number): boolean {
    const block = this.blocks.get(key);
    if (!block) return true;
    if (nowMs < block.perCallUntil) return false;
    return block.suspended || nowMs >= block.usableUntil || 2 * block.avail < block.lastGrant;
  }

  /**
   * Before a check of this window goes to Redis because the block cannot cover it: the whole block
   * goes back (unused units returned, admitted ones settled), so Redis decides on the true count.
   */
  handOver(key: string): BlockHandover {
    const block = this.blocks.get(key);
    if (!block || block.unsettled === 0) return NOTHING;
    const handover = { ret: block.avail, settle: block.unsettled - block.avail, epoch: block.epoch };
    block.avail = 0;
    block.unsettled = 0;
    return handover;
  }

  /** Before a top-up: settles what was admitted and keeps the rest of the block. */
  settle(key: string): BlockHandover {
    const block = this.blocks.get(key);
    if (!block || block.unsettled === block.avail) return NOTHING;
    const handover = { ret: 0, settle: block.unsettled - block.avail, epoch: block.epoch };
    block.unsettled = block.avail;
    return handover;
  }

  /**
   * Redis answered a check of this window: `count` is the window's count after it, including
   * `extra` newly granted units for this node, and the window ends `pttlMs` after `sentAtMs`
   * at the latest (it was measured after the request left), at `epoch` in Redis time.
   */
  granted(key: string, count: number, extra: number, pttlMs: number, epoch: number, sentAtMs: number): LocalAdmission {
    let block = this.blocks.get(key);
    if (epoch === 0) {
      // The window does not exist (a top-up of one that ended): nothing of it is held.
      this.blocks.delete(key);
      return { used: count, resetMs: pttlMs };
    }
    if (block && block.epoch !== 0 && Math.abs(block.epoch - epoch) > SAME_WINDOW_SLACK_MS) {
      // A new window: what was held in the old one went with it.
      block.avail = 0;
      block.unsettled = 0;
      block.perCallUntil = 0;
    }
    if (!block) {
      if (extra === 0) return { used: count, resetMs: pttlMs };
      block = { avail: 0, unsettled: 0, used: 0, epoch, usableUntil: 0, suspended: false, lastGrant: 0, perCallUntil: 0 };
      this.blocks.set(key, block);
    }
    block.avail += extra;
    block.unsettled += extra;
    if (extra > 0) block.lastGrant = extra;
    block.epoch = epoch;
    block.usableUntil = sentAtMs + pttlMs;
    block.suspended = false;
    block.used = count - block.avail;
    return { used: block.used, resetMs: pttlMs };
  }

  /**
   * Another node needs this window's units: hand the block back and check the window per call
   * until it resets. `undefined` when this node never held any of it (it need not answer).
   */
  reclaim(key: string, nowMs: number): BlockHandover | undefined {
    const block = this.blocks.get(key);
    if (!block) {
      // Nothing held yet, but a block may be on its way: it goes back when it arrives.
      this.blocks.set(key, { avail: 0, unsettled: 0, used: 0, epoch: 0, usableUntil: 0, suspended: false, lastGrant: 0, perCallUntil: nowMs + RECLAIMED_PER_CALL_MS });
      return undefined;
    }
    block.perCallUntil = block.usableUntil > nowMs ? block.usableUntil : nowMs + RECLAIMED_PER_CALL_MS;
    // Answered even when empty: the asking node counts answers of the nodes that held some.
    return this.handOver(key);
  }

  /** Every block still held, e.g. to give them back before closing. */
  handOverAll(): { key: string; handover: BlockHandover }[] {
    const all: { key: string; handover: BlockHandover }[] = [];
    for (const key of this.blocks.keys()) {
      const handover = this.handOver(key);
      if (handover.ret + handover.settle > 0) all.push({ key, handover });
    }
    return all;
  }

  /**
   * The connection to Redis dropped: no more local admissions, so every check asks Redis and the
   * failure mode decides as without leases. Unused units stay recorded, to go back when asked.
   */
  suspend(): void {
    for (const block of this.blocks.values()) block.suspended = true;
  }

  /** Drops blocks of windows that ended (their holders hash in Redis expired with them). */
  sweep(nowMs: number): void {
    for (const [key, block] of this.blocks) {
      if (nowMs >= block.usableUntil + ENDED_WINDOW_GRACE_MS && nowMs >= block.perCallUntil) this.blocks.delete(key);
    }
  }

  get size(): number {
    return this.blocks.size;
  }
}
