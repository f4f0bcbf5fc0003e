import { RECLAIMED_SLOTS_MS, SlotBlocks } from './slot-blocks';

const SET = 'sb:limits:lease:{t1}:concurrentToolCalls:tenant:t1';

/** A ledger whose first call on SET Redis admitted with `extra` more slots for the block. */
function withBlock(extra: number): SlotBlocks {
  const slots = new SlotBlocks();
  slots.granted(SET, slots.generation, 1, extra, 0, 0);
  return slots;
}

describe('SlotBlocks: a node’s blocks of in-flight slots', () => {
  it('starts calls on the block while it has free slots, and an ending call frees its slot for the next', () => {
    const slots = withBlock(2);
    expect(slots.take(SET, 1)).toBe(true);
    expect(slots.take(SET, 1)).toBe(true);
    expect(slots.take(SET, 1)).toBe(false); // 3 of 3 in use
    expect(slots.release(SET, slots.generation, 2)).toBe(0); // back to the block, not to Redis
    expect(slots.take(SET, 3)).toBe(true);
    expect(slots.peek(SET)).toEqual({ size: 3, inUse: 3 });
  });

  it('has nothing to start calls on for a set it holds no block of', () => {
    expect(new SlotBlocks().take(SET, 0)).toBe(false);
  });

  it('hands back the idle slots when reclaimed, checks per call meanwhile, and gives each such slot back when its call ends', () => {
    const slots = withBlock(4); // 1 of 5 in use
    expect(slots.reclaim(SET, 10)).toBe(4);
    expect(slots.peek(SET)).toEqual({ size: 1, inUse: 1 });
    expect(slots.mayLease(SET, 10)).toBe(false);
    slots.granted(SET, slots.generation, 1, 0, 0, 20); // a call asked Redis for its slot
    expect(slots.take(SET, 30)).toBe(false);
    expect(slots.release(SET, slots.generation, 40)).toBe(1);
    expect(slots.release(SET, slots.generation, 50)).toBe(1);
    expect(slots.peek(SET)).toEqual({ size: 0, inUse: 0 });
    expect(slots.mayLease(SET, 10 + RECLAIMED_SLOTS_MS)).toBe(true);
  });

  it('gives back a block granted while the set was reclaimed, and checks per call while Redis says so', () => {
    const slots = new SlotBlocks();
    expect(slots.reclaim(SET, 0)).toBe(0); // nothing held yet, but a grant is on its way
    slots.granted(SET, slots.generation, 1, 5, 0, 1);
    expect(slots.surplusIfReclaimed(SET, 1)).toBe(5);
    const other = new SlotBlocks();
    other.granted(SET, other.generation, 1, 0, 3_000, 0);
    expect(other.release(SET, other.generation, 100)).toBe(1);
  });

  it('forgets its blocks when the connection drops: calls of the old ones give nothing back to the new', () => {
    const slots = withBlock(4);
    const old = slots.generation;
    slots.suspend();
    expect(slots.take(SET, 1)).toBe(false);
    expect(slots.mayLease(SET, 1)).toBe(false);
    expect(slots.generation).not.toBe(old);
    slots.granted(SET, slots.generation, 1, 0, 0, 2);
    expect(slots.release(SET, old, 3)).toBe(0);
    expect(slots.peek(SET)).toEqual({ size: 1, inUse: 1 });
    // A reply to a check sent before the drop is ignored.
    slots.granted(SET, old, 1, 9, 0, 4);
    expect(slots.peek(SET)).toEqual({ size: 1, inUse: 1 });
  });

  it('hands back blocks that sat idle for a renewal period and renews the rest', () => {
    const slots = withBlock(3);
    slots.granted('busy', slots.generation, 1, 3, 0, 0);
    expect(slots.release(SET, slots.generation, 5)).toBe(0); // SET: nothing running since t=5
    expect(slots.renewals(10)).toEqual({ renew: ['busy'], returns: [{ set: SET, slots: 4 }] });
    expect(slots.peek(SET)).toBeUndefined();
    expect(slots.handBackAll()).toEqual([{ set: 'busy', slots: 3 }]);
  });
});
