import { averageDurationMs, niceMax, rangeEndingNow, toBuckets } from './usage-buckets';

const counts = (calls: number, errors = 0, totalDurationMs = 0) => ({ calls, errors, totalDurationMs, bytesIn: 0, bytesOut: 0 });

describe('usage buckets', () => {
  it('ends a range at the end of the current hour, so the hour in progress counts', () => {
    const range = rangeEndingNow(24 * 3_600_000, new Date('2026-12-02T01:40:00Z'));
    expect([range.from.toISOString(), range.to.toISOString()]).toEqual(['2026-12-01T02:00:00.000Z', '2026-12-02T02:00:00.000Z']);
    expect(rangeEndingNow(3_600_000, new Date('2026-12-02T02:00:00Z')).to.toISOString()).toBe('2026-12-02T03:00:00.000Z');
  });

  it('shows every hour of a day, the quiet ones as zero', () => {
    const range = { from: new Date('2026-12-01T00:00:00Z'), to: new Date('2026-12-02T00:00:00Z') };
    const buckets = toBuckets(range, [{ group: '2026-12-01T03:00:00.000Z', ...counts(4, 1, 40) }]);
    expect(buckets).toHaveLength(24);
    expect(buckets[3]).toMatchObject({ calls: 4, errors: 1, totalDurationMs: 40 });
    expect(buckets.filter((bucket) => bucket.calls > 0)).toHaveLength(1);
  });

  it('adds hours up to days for a longer range, and ignores hours outside it', () => {
    const range = { from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-11-08T00:00:00Z') };
    const buckets = toBuckets(range, [
      { group: '2026-11-02T01:00:00.000Z', ...counts(2) },
      { group: '2026-11-02T23:00:00.000Z', ...counts(3) },
      { group: '2026-12-01T00:00:00.000Z', ...counts(99) },
    ]);
    expect(buckets.map((bucket) => bucket.calls)).toEqual([0, 5, 0, 0, 0, 0, 0]);
  });

  it('rounds an axis up to 1, 2 or 5 times a power of ten, and averages without dividing by zero', () => {
    expect([niceMax(0), niceMax(3), niceMax(7), niceMax(12), niceMax(100)]).toEqual([1, 5, 10, 20, 100]);
    expect([averageDurationMs(counts(0)), averageDurationMs(counts(3, 0, 10)), averageDurationMs(counts(3, 0, 1))]).toEqual([0, 3.3, 0.3]);
  });
});
