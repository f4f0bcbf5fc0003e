import type { UsageCounts } from '../api/types';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
/** Up to two days the chart shows hours; beyond, days (UTC), so a bar stays wide enough to see. */
export const HOURLY_UP_TO_MS = 2 * DAY_MS;

export interface UsageRange {
  from: Date;
  to: Date;
}

/** The last `spanMs` up to the end of the current hour, so the hour in progress counts. */
export function rangeEndingNow(spanMs: number, now: Date): UsageRange {
  const to = new Date(Math.ceil((now.getTime() + 1) / HOUR_MS) * HOUR_MS);
  return { from: new Date(to.getTime() - spanMs), to };
}

export interface Bucket extends UsageCounts {
  /** Start of the bucket. */
  at: Date;
}

const ZERO: UsageCounts = { calls: 0, errors: 0, totalDurationMs: 0, bytesIn: 0, bytesOut: 0 };

/**
 * The API's `groupBy=hour` groups (only hours with calls) as one bucket per hour or per day of
 * the range, empty ones included: a chart over time must show the quiet hours too.
 */
export function toBuckets(range: UsageRange, hours: (UsageCounts & { group: string })[]): Bucket[] {
  const size = range.to.getTime() - range.from.getTime() <= HOURLY_UP_TO_MS ? HOUR_MS : DAY_MS;
  const start = Math.floor(range.from.getTime() / size) * size;
  const buckets: Bucket[] = [];
  for (let at = start; at < range.to.getTime(); at += size) buckets.push({ at: new Date(at), ...ZERO });
  for (const hour of hours) {
    const index = Math.floor((Date.parse(hour.group) - start) / size);
    const bucket = buckets[index];
    if (!bucket) continue;
    bucket.calls += hour.calls;
    bucket.errors += hour.errors;
    bucket.totalDurationMs += hour.totalDurationMs;
    bucket.bytesIn += hour.bytesIn;
    bucket.bytesOut += hour.bytesOut;
  }
  return buckets;
}

/** Mean duration of a call in ms to a tenth (echo-like tools take well under 1 ms), 0 without calls. */
export function averageDurationMs(counts: UsageCounts): number {
  return counts.calls === 0 ? 0 : Math.round((counts.totalDurationMs * 10) / counts.calls) / 10;
}

/** A round upper bound for a chart's axis: 1, 2, 5 × 10ⁿ at or above the largest value. */
export function niceMax(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}
