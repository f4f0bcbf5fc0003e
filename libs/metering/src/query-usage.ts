import { Prisma, type PrismaClient } from '@switchboard/db';

export const USAGE_GROUP_BY = ['plugin', 'tool', 'key', 'subject', 'hour'] as const;
export type UsageGroupBy = (typeof USAGE_GROUP_BY)[number];

export interface UsageQuery {
  tenantId: string;
  /** Hour buckets starting at or after `from` and before `to` are counted. */
  from: Date;
  to: Date;
  groupBy: UsageGroupBy;
}

/** The bucket a series counts in: the record's own hour, or its day (UTC). */
export const USAGE_INTERVALS = ['hour', 'day'] as const;
export type UsageInterval = (typeof USAGE_INTERVALS)[number];

export interface UsageSeriesQuery extends Omit<UsageQuery, 'groupBy'> {
  /** What a series is of; `hour` would be a series of one-hour series. */
  groupBy: Exclude<UsageGroupBy, 'hour'>;
  interval: UsageInterval;
}

export interface UsageTotals {
  /** The plugin, tool, API key id, subject, or ISO hour, depending on groupBy. */
  group: string;
  calls: number;
  errors: number;
  totalDurationMs: number;
  bytesIn: number;
  bytesOut: number;
}

// A fixed map from the validated groupBy to SQL: the only way text reaches the query unparameterised.
const GROUP_COLUMN: Record<UsageGroupBy, Prisma.Sql> = {
  plugin: Prisma.raw('plugin'),
  tool: Prisma.raw(`plugin || '/' || tool`),
  key: Prisma.raw('api_key_id::text'),
  // Calls without a subject (plain API keys, records from before subjects were metered) count for
  // the key, named as an OAuth grant made with that key names its subject.
  subject: Prisma.raw(`COALESCE(NULLIF(subject, ''), 'key:' || api_key_id::text)`),
  hour: Prisma.raw(`to_char(hour AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":00:00Z"')`),
};

// Fixed SQL per validated interval, as for the groups: the bucket's start as an ISO instant.
const BUCKET_COLUMN: Record<UsageInterval, Prisma.Sql> = {
  hour: GROUP_COLUMN.hour,
  day: Prisma.raw(`to_char(date_trunc('day', hour AT TIME ZONE 'UTC'), 'YYYY-MM-DD"T"00:00:00Z"')`),
};

interface SummedRow {
  calls: bigint;
  errors: bigint;
  duration: bigint;
  bytes_in: bigint;
  bytes_out: bigint;
}

function countsOf(row: SummedRow): Omit<UsageTotals, 'group'> {
  return { calls: Number(row.calls), errors: Number(row.errors), totalDurationMs: Number(row.duration), bytesIn: Number(row.bytes_in), bytesOut: Number(row.bytes_out) };
}

/** One tenant's usage totals per group, from the hourly records. */
export async function queryUsage(prisma: PrismaClient, query: UsageQuery): Promise<UsageTotals[]> {
  const column = GROUP_COLUMN[query.groupBy];
  const rows = await prisma.$queryRaw<(SummedRow & { group: string })[]>`
    SELECT ${column} AS "group", SUM(calls)::bigint AS calls, SUM(errors)::bigint AS errors,
           SUM(total_duration_ms)::bigint AS duration, SUM(bytes_in)::bigint AS bytes_in, SUM(bytes_out)::bigint AS bytes_out
    FROM usage_records
    WHERE tenant_id = ${query.tenantId}::uuid AND hour >= ${query.from} AND hour < ${query.to}
    GROUP BY 1
    ORDER BY 1`;
  return rows.map((row) => ({ group: row.group, ...countsOf(row) }));
}

/**
 * One tenant's usage per group and bucket (hour or day): calls of each plugin, tool, key or
 * subject over time. Only buckets with calls are returned, in time order, then by group.
 */
export async function queryUsageSeries(prisma: PrismaClient, query: UsageSeriesQuery): Promise<(UsageTotals & { at: string })[]> {
  const rows = await prisma.$queryRaw<(SummedRow & { group: string; at: string })[]>`
    SELECT ${GROUP_COLUMN[query.groupBy]} AS "group", ${BUCKET_COLUMN[query.interval]} AS at,
           SUM(calls)::bigint AS calls, SUM(errors)::bigint AS errors,
           SUM(total_duration_ms)::bigint AS duration, SUM(bytes_in)::bigint AS bytes_in, SUM(bytes_out)::bigint AS bytes_out
    FROM usage_records
    WHERE tenant_id = ${query.tenantId}::uuid AND hour >= ${query.from} AND hour < ${query.to}
    GROUP BY 1, 2
    ORDER BY 2, 1`;
  return rows.map((row) => ({ group: row.group, at: row.at, ...countsOf(row) }));
}
