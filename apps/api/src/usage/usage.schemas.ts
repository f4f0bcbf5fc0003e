import { z } from 'zod';
import { USAGE_GROUP_BY, USAGE_INTERVALS } from '@switchboard/metering';
import { instantSchema } from '../common/instant';
import { countQuerySchema } from '../common/pagination';

/** About a quarter: enough for quarterly reports, and a bound on the rows one query sums. */
export const MAX_USAGE_RANGE_DAYS = 93;
const DAY_MS = 86_400_000;
/** An hourly series over more than this would be thousands of points per group: ask for days. */
export const MAX_HOURLY_SERIES_DAYS = 7;
export const DEFAULT_FAILED_JOBS_LIMIT = 50;
export const MAX_FAILED_JOBS_LIMIT = 200;

/** A date (midnight UTC) or a date-time with its zone: a time without one would depend on the server's clock. */
const usageInstantSchema = instantSchema({ allowDate: true });

export const usageQuerySchema = z
  .object({
    /** Hour buckets starting at or after `from` … */
    from: usageInstantSchema,
    /** … and before `to` are counted. */
    to: usageInstantSchema,
    groupBy: z.enum(USAGE_GROUP_BY).default('plugin'),
    /** Also each group over time, per hour or day (UTC): the `series` of the answer. */
    interval: z.enum(USAGE_INTERVALS).optional(),
  })
  .strict()
  .superRefine((query, ctx) => {
    if (query.interval !== undefined && query.groupBy === 'hour') ctx.addIssue({ code: 'custom', path: ['interval'], message: 'groupBy hour is already over time: choose plugin, tool, key or subject' });
    // zod runs this check even when a date failed its own (which then names the field): skip it.
    if (!isDate(query.from) || !isDate(query.to)) return;
    const spanMs = query.to.getTime() - query.from.getTime();
    if (query.from >= query.to) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
    else if (spanMs > MAX_USAGE_RANGE_DAYS * DAY_MS) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: `at most ${MAX_USAGE_RANGE_DAYS} days after from` });
    } else if (query.interval === 'hour' && spanMs > MAX_HOURLY_SERIES_DAYS * DAY_MS) {
      ctx.addIssue({ code: 'custom', path: ['interval'], message: `hour covers at most ${MAX_HOURLY_SERIES_DAYS} days: use day` });
    }
  });

function isDate(value: unknown): value is Date {
  return value instanceof Date && !Number.isNaN(value.getTime());
}

const countsSchema = z.object({
  calls: z.number().int(),
  errors: z.number().int(),
  totalDurationMs: z.number().int(),
  bytesIn: z.number().int(),
  bytesOut: z.number().int(),
});

export const usageViewSchema = z.object({
  tenantId: z.uuid(),
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  groupBy: z.enum(USAGE_GROUP_BY),
  /** All groups added up. */
  totals: countsSchema,
  /** One entry per plugin, `plugin/tool`, API key id, subject (`key:<id>` for calls without one) or ISO hour, in that order. */
  groups: z.array(countsSchema.extend({ group: z.string() })),
  /** With `interval`: each group's counts per bucket that had calls, in time order (`at`: the bucket's start). */
  series: z.array(countsSchema.extend({ group: z.string(), at: z.iso.datetime() })).optional(),
});

/** Deepest page of failed jobs; past that, discard or retry the first ones. */
export const MAX_FAILED_JOBS_OFFSET = 100_000;

export const failedJobsQuerySchema = z
  .object({
    limit: countQuerySchema(MAX_FAILED_JOBS_LIMIT, DEFAULT_FAILED_JOBS_LIMIT),
    /** Jobs to skip, newest first (the previous page's `nextOffset`). */
    offset: z
      .string()
      .regex(/^[0-9]{1,9}$/, 'must be a whole number')
      .default('0')
      .transform(Number)
      .pipe(z.number().int().min(0).max(MAX_FAILED_JOBS_OFFSET)),
  })
  .strict();

/** Job ids are the usage event's id, or what a producer chose: printable, short. */
export const failedJobIdSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'not a job id');

export const failedJobViewSchema = z.object({
  /** The usage event's id (jobs are keyed by it). */
  id: z.string(),
  failedReason: z.string(),
  attemptsMade: z.number().int(),
  queuedAt: z.iso.datetime(),
  failedAt: z.iso.datetime().nullable(),
});

export const failedJobsViewSchema = z.object({
  /** `embedded` has no queue, so never a failed job. */
  mode: z.enum(['embedded', 'bullmq']),
  items: z.array(failedJobViewSchema),
  /** Failed jobs in the queue, across every page. */
  total: z.number().int(),
  /** Pass as `offset` for the next page; null on the last one. */
  nextOffset: z.number().int().nullable(),
});

export const retriedJobViewSchema = z.object({ id: z.string(), state: z.literal('waiting') });

export type UsageQuery = z.output<typeof usageQuerySchema>;
export type UsageView = z.output<typeof usageViewSchema>;
export type FailedJobsQuery = z.output<typeof failedJobsQuerySchema>;
export type FailedJobsView = z.output<typeof failedJobsViewSchema>;
