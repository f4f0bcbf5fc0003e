import type { UsageCounts } from '../api/types';
import { DAY_MS, HOUR_MS, HOURLY_UP_TO_MS, type UsageRange } from './usage-buckets';

/** More series than this would be colours nobody can tell apart: the rest are added up as "Other". */
export const MAX_SERIES = 6;
export const OTHER_SERIES = 'Other';

export type SeriesMetric = 'calls' | 'errors' | 'totalDurationMs';

export interface SeriesPoint extends UsageCounts {
  group: string;
  /** Start of the API's bucket (hour or day, UTC). */
  at: string;
}

export interface StackedBuckets {
  /** The series in stacking order: the busiest first, "Other" last when there is one. */
  series: string[];
  /** One bucket per hour or day of the range, quiet ones included; `values[i]` is series i's. */
  buckets: { at: Date; values: number[] }[];
}

/** The interval to ask the API for: hours up to two days (as the totals chart shows), else days. */
export function seriesInterval(range: UsageRange): 'hour' | 'day' {
  return range.to.getTime() - range.from.getTime() <= HOURLY_UP_TO_MS ? 'hour' : 'day';
}

/**
 * The API's series (only buckets with calls, one point per group and bucket) as stacked bars:
 * every bucket of the range, the MAX_SERIES - 1 groups with the most of `metric` on their own and
 * the others added up, so a chart of a tenant with fifty tools still reads.
 */
export function toStackedBuckets(range: UsageRange, points: SeriesPoint[], metric: SeriesMetric): StackedBuckets {
  const totals = new Map<string, number>();
  for (const point of points) totals.set(point.group, (totals.get(point.group) ?? 0) + point[metric]);
  const ranked = [...totals.entries()].filter(([, total]) => total > 0).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([group]) => group);
  const series = ranked.length > MAX_SERIES ? [...ranked.slice(0, MAX_SERIES - 1), OTHER_SERIES] : ranked;
  const index = new Map(series.map((group, i) => [group, i]));
  const other = index.get(OTHER_SERIES);

  const size = seriesInterval(range) === 'hour' ? HOUR_MS : DAY_MS;
  const start = Math.floor(range.from.getTime() / size) * size;
  const buckets: StackedBuckets['buckets'] = [];
  for (let at = start; at < range.to.getTime(); at += size) buckets.push({ at: new Date(at), values: series.map(() => 0) });
  for (const point of points) {
    const bucket = buckets[Math.floor((Date.parse(point.at) - start) / size)];
    const i = index.get(point.group) ?? other;
    if (bucket && i !== undefined) bucket.values[i]! += point[metric];
  }
  return { series, buckets };
}
