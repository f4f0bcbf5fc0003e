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

/** One tenant's usage totals per group, from the hourly records. */
export async function queryUsage(prisma: PrismaClient, query: UsageQuery): Promise<UsageTotals[]> {
  const column = GROUP_COLUMN[query.groupBy];
  const rows = await prisma.$queryRaw<{ group: string; calls: bigint; errors: bigint; duration: bigint; bytes_in: bigint; bytes_out: bigint }[]>`
    SELECT ${column} AS "group", SUM(calls)::bigint AS calls, SUM(errors)::bigint AS errors,
           SUM(total_duration_ms)::bigint AS duration, SUM(bytes_in)::bigint AS bytes_in, SUM(bytes_out)::bigint AS bytes_out
    FROM usage_records
    WHERE tenant_id = ${query.tenantId}::uuid AND hour >= ${query.from} AND hour < ${query.to}
    GROUP BY 1
    ORDER BY 1`;
  return rows.map((row) => ({
    group: row.group,
    calls: Number(row.calls),
    errors: Number(row.errors),
    totalDurationMs: Number(row.duration),
    bytesIn: Number(row.bytes_in),
    bytesOut: Number(row.bytes_out),
  }));
}
