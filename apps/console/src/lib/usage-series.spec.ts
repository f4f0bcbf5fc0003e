import { MAX_SERIES, OTHER_SERIES, seriesInterval, toStackedBuckets, type SeriesPoint } from './usage-series';

const point = (at: string, group: string, calls: number, errors = 0, totalDurationMs = 0): SeriesPoint => ({ at, group, calls, errors, totalDurationMs, bytesIn: 0, bytesOut: 0 });
const day = { from: new Date('2026-12-01T00:00:00Z'), to: new Date('2026-12-02T00:00:00Z') };

describe('usage series as stacked bars', () => {
  it('asks for hours up to two days and days beyond', () => {
    expect(seriesInterval(day)).toBe('hour');
    expect(seriesInterval({ from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-11-08T00:00:00Z') })).toBe('day');
  });

  it('puts each group in its own series, the busiest first, and fills the quiet hours with zero', () => {
    const stacked = toStackedBuckets(day, [point('2026-12-01T03:00:00Z', 'echo', 1), point('2026-12-01T03:00:00Z', 'weather', 4), point('2026-12-01T05:00:00Z', 'echo', 2)], 'calls');
    expect(stacked.series).toEqual(['weather', 'echo']);
    expect(stacked.buckets).toHaveLength(24);
    expect(stacked.buckets[3]!.values).toEqual([4, 1]);
    expect(stacked.buckets[5]!.values).toEqual([0, 2]);
    expect(stacked.buckets[4]!.values).toEqual([0, 0]);
  });

  it('ranks and stacks by the chosen metric, leaving out groups with none of it', () => {
    const points = [point('2026-12-01T01:00:00Z', 'a', 9, 0, 10), point('2026-12-01T01:00:00Z', 'b', 1, 1, 500)];
    expect(toStackedBuckets(day, points, 'errors').series).toEqual(['b']);
    expect(toStackedBuckets(day, points, 'totalDurationMs').series).toEqual(['b', 'a']);
    expect(toStackedBuckets(day, points, 'totalDurationMs').buckets[1]!.values).toEqual([500, 10]);
  });

  it(`adds up everything past the ${MAX_SERIES - 1} busiest groups as "${OTHER_SERIES}", losing no call`, () => {
    const points = Array.from({ length: 9 }, (_, i) => point('2026-12-01T02:00:00Z', `tool-${i}`, i + 1));
    const stacked = toStackedBuckets(day, points, 'calls');
    expect(stacked.series).toEqual(['tool-8', 'tool-7', 'tool-6', 'tool-5', 'tool-4', OTHER_SERIES]);
    expect(stacked.buckets[2]!.values).toEqual([9, 8, 7, 6, 5, 4 + 3 + 2 + 1]);
  });

  it('ignores points outside the range', () => {
    const stacked = toStackedBuckets(day, [point('2026-12-05T00:00:00Z', 'a', 3), point('2026-12-01T00:00:00Z', 'a', 1)], 'calls');
    expect(stacked.buckets.reduce((sum, bucket) => sum + bucket.values[0]!, 0)).toBe(1);
  });
});
