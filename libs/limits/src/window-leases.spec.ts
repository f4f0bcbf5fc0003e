import { SAME_WINDOW_SLACK_MS, WindowLeases } from './window-leases';

const KEY = 'sb:limits:rl:requestsPerMinute:tenant:t1';
const EPOCH = 1_000_000;

/** A ledger holding a block of `extra` units granted at t=0, the window ending in 60 s. */
function withBlock(extra: number, count = extra + 1): WindowLeases {
  const leases = new WindowLeases();
  leases.granted(KEY, count, extra, 60_000, EPOCH, 0);
  return leases;
}

describe('WindowLeases: a node’s blocks of window units', () => {
  it('admits from the block without Redis while it lasts, and reports the window as used so far', () => {
    const leases = withBlock(3, 4); // this check took 1, the block is 3 more
    expect(leases.take(KEY, 1, 10)).toEqual({ used: 2, resetMs: 59_990 });
    expect(leases.take(KEY, 1, 20)).toEqual({ used: 3, resetMs: 59_980 });
    expect(leases.take(KEY, 1, 30)).toEqual({ used: 4, resetMs: 59_970 });
    expect(leases.take(KEY, 1, 40)).toBeUndefined();
  });

  it('admits a batch of n only when n units are left in the block', () => {
    const leases = withBlock(5);
    expect(leases.take(KEY, 6, 1)).toBeUndefined();
    expect(leases.take(KEY, 5, 1)).toBeDefined();
    expect(leases.take(KEY, 1, 1)).toBeUndefined();
  });

  it('never admits from a block once its window may have ended', () => {
    const leases = withBlock(10);
    expect(leases.take(KEY, 1, 60_000)).toBeUndefined();
  });

  it('gives an undone admission back to the block (refused by another check)', () => {
    const leases = withBlock(1);
    expect(leases.take(KEY, 1, 1)).toBeDefined();
    leases.untake(KEY, 1);
    expect(leases.take(KEY, 1, 1)).toBeDefined();
  });

  it('hands the whole block over when a check goes to Redis: unused units returned, admitted ones settled', () => {
    const leases = withBlock(10);
    for (let i = 0; i < 4; i++) leases.take(KEY, 1, 1);
    expect(leases.handOver(KEY)).toEqual({ ret: 6, settle: 4, epoch: EPOCH });
    expect(leases.take(KEY, 1, 1)).toBeUndefined();
    expect(leases.handOver(KEY)).toEqual({ ret: 0, settle: 0, epoch: 0 });
  });

  it('settles admitted units on a top-up and keeps the rest of the block', () => {
    const leases = withBlock(10);
    for (let i = 0; i < 7; i++) leases.take(KEY, 1, 1);
    expect(leases.low(KEY, 1)).toBe(true); // 3 left of 10
    expect(leases.settle(KEY)).toEqual({ ret: 0, settle: 7, epoch: EPOCH });
    expect(leases.take(KEY, 3, 1)).toBeDefined();
  });

  it('adds grants of checks that were in flight together instead of replacing the block', () => {
    const leases = new WindowLeases();
    leases.granted(KEY, 11, 10, 60_000, EPOCH, 0);
    leases.granted(KEY, 20, 8, 60_000, EPOCH + 1, 0); // same window, the clock moved a millisecond
    expect(leases.handOver(KEY)).toEqual({ ret: 18, settle: 0, epoch: EPOCH + 1 });
  });

  it('drops a block of an ended window when a new window grants one', () => {
    const leases = withBlock(10);
    leases.granted(KEY, 5, 4, 60_000, EPOCH + 60_000, 60_000);
    expect(leases.handOver(KEY)).toEqual({ ret: 4, settle: 0, epoch: EPOCH + 60_000 });
    expect(SAME_WINDOW_SLACK_MS).toBeLessThan(60_000);
  });

  it('forgets a block when Redis says its window no longer exists', () => {
    const leases = withBlock(10);
    leases.granted(KEY, 0, 0, 60_000, 0, 1);
    expect(leases.take(KEY, 1, 1)).toBeUndefined();
    expect(leases.handOver(KEY).ret).toBe(0);
  });

  it('on a reclaim hands everything back and checks the window per call until it resets', () => {
    const leases = withBlock(10);
    leases.take(KEY, 1, 1);
    expect(leases.reclaim(KEY, 5)).toEqual({ ret: 9, settle: 1, epoch: EPOCH });
    expect(leases.mayLease(KEY, 5)).toBe(false);
    expect(leases.low(KEY, 5)).toBe(false); // no top-ups either
    expect(leases.mayLease(KEY, 60_000)).toBe(true);
    // Asked again: it answers with nothing left, so the asking node can count the answer.
    expect(leases.reclaim(KEY, 6)).toEqual({ ret: 0, settle: 0, epoch: 0 });
  });

  it('does not answer a reclaim of a window it never held, but leases none of it for a while', () => {
    const leases = new WindowLeases();
    expect(leases.reclaim(KEY, 5)).toBeUndefined();
    expect(leases.mayLease(KEY, 5)).toBe(false);
  });

  it('stops admitting from blocks when the connection drops, keeping the units to hand back', () => {
    const leases = withBlock(10);
    leases.suspend();
    expect(leases.take(KEY, 1, 1)).toBeUndefined();
    expect(leases.handOver(KEY)).toEqual({ ret: 10, settle: 0, epoch: EPOCH });
  });

  it('hands every block over before closing', () => {
    const leases = withBlock(10);
    leases.granted('other', 3, 2, 60_000, EPOCH, 0);
    expect(leases.handOverAll()).toEqual([
      { key: KEY, handover: { ret: 10, settle: 0, epoch: EPOCH } },
      { key: 'other', handover: { ret: 2, settle: 0, epoch: EPOCH } },
    ]);
  });

  it('sweeps blocks of windows that ended', () => {
    const leases = withBlock(10);
    leases.sweep(59_000);
    expect(leases.size).toBe(1);
    leases.sweep(120_000);
    expect(leases.size).toBe(0);
  });
});
