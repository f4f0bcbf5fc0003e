import { Prisma, type PrismaClient } from '@switchboard/db';
import type { UsageEvent } from './usage-event';

const HOUR_MS = 3_600_000;
/**
 * Receipts only need to outlive any redelivery: BullMQ retries end within minutes and failed jobs
 * are kept 7 days (USAGE_JOB_OPTIONS), so a month is ample.
 */
export const USAGE_RECEIPT_RETENTION_DAYS = 30;

export interface AggregationResult {
  /** Events counted by this call. */
  applied: number;
  /** Events already counted before (redelivered), ignored. */
  duplicates: number;
}

interface Bucket {
  tenantId: string;
  keyId: string;
  /** '' for an event without a subject: the column is part of the primary key, so it cannot be NULL. */
  subject: string;
  plugin: string;
  tool: string;
  hour: string;
  calls: number;
  errors: number;
  durationMs: number;
  bytesIn: number;
  bytesOut: number;
}

/**
 * Adds usage events to the hourly UsageRecord totals, exactly once per event id, in one
 * transaction: insert the receipts (ON CONFLICT DO NOTHING), then count only the events whose
 * receipt was new. Two workers applying the same event concurrently are serialised by the receipt's
 * primary key: the second waits for the first to commit and then sees a conflict.
 */
export class UsageAggregator {
  constructor(private readonly prisma: PrismaClient) {}

  async apply(events: UsageEvent[]): Promise<AggregationResult> {
    if (events.length === 0) return { applied: 0, duplicates: 0 };
    // Sorted ids and buckets: concurrent transactions lock rows in the same order and cannot deadlock.
    const unique = [...new Map(events.map((e) => [e.eventId, e])).values()].sort((a, b) => a.eventId.localeCompare(b.eventId));
    return this.prisma.$transaction(async (tx) => {
      const inserted = await tx.$queryRaw<{ event_id: string }[]>`
        INSERT INTO usage_event_receipts (event_id)
        SELECT id FROM unnest(${unique.map((e) => e.eventId)}::text[]) AS t(id) ORDER BY id
        ON CONFLICT (event_id) DO NOTHING
        RETURNING event_id`;
      const fresh = new Set(inserted.map((row) => row.event_id));
      const counted = unique.filter((e) => fresh.has(e.eventId));
      if (counted.length > 0) {
        await this.addToBuckets(tx, bucketsOf(counted));
        await this.touchKeys(tx, counted);
      }
      return { applied: counted.length, duplicates: events.length - counted.length };
    });
  }

  private async addToBuckets(tx: Prisma.TransactionClient, buckets: Bucket[]): Promise<void> {
    const column = <K extends keyof Bucket>(key: K) => buckets.map((b) => b[key]);
    // Usage of a tenant deleted meanwhile is dropped (the row would violate the foreign key).
    await tx.$executeRaw`
      INSERT INTO usage_records (tenant_id, api_key_id, subject, plugin, tool, hour, calls, errors, total_duration_ms, bytes_in, bytes_out)
      SELECT v.tenant_id, v.api_key_id, v.subject, v.plugin, v.tool, v.hour, v.calls, v.errors, v.duration_ms, v.bytes_in, v.bytes_out
      FROM unnest(
        ${column('tenantId')}::uuid[], ${column('keyId')}::uuid[], ${column('subject')}::text[], ${column('plugin')}::text[],
        ${column('tool')}::text[], ${column('hour')}::timestamptz[], ${column('calls')}::int[], ${column('errors')}::int[],
        ${column('durationMs')}::bigint[], ${column('bytesIn')}::bigint[], ${column('bytesOut')}::bigint[]
      ) AS v(tenant_id, api_key_id, subject, plugin, tool, hour, calls, errors, duration_ms, bytes_in, bytes_out)
      WHERE EXISTS (SELECT 1 FROM tenants t WHERE t.id = v.tenant_id)
      ORDER BY 1, 2, 3, 4, 5, 6
      ON CONFLICT (tenant_id, api_key_id, subject, plugin, tool, hour) DO UPDATE SET
        calls = usage_records.calls + EXCLUDED.calls,
        errors = usage_records.errors + EXCLUDED.errors,
        total_duration_ms = usage_records.total_duration_ms + EXCLUDED.total_duration_ms,
        bytes_in = usage_records.bytes_in + EXCLUDED.bytes_in,
        bytes_out = usage_records.bytes_out + EXCLUDED.bytes_out`;
  }

  /** lastUsedAt only moves forward, whatever order events arrive in (GREATEST ignores NULL). */
  private async touchKeys(tx: Prisma.TransactionClient, events: UsageEvent[]): Promise<void> {
    const latest = new Map<string, string>();
    for (const e of events) if ((latest.get(e.keyId) ?? '') < e.at) latest.set(e.keyId, e.at);
    const keys = [...latest.keys()].sort();
    await tx.$executeRaw`
      UPDATE api_keys k SET last_used_at = GREATEST(k.last_used_at, v.at)
      FROM unnest(${keys}::uuid[], ${keys.map((k) => latest.get(k)!)}::timestamptz[]) AS v(id, at)
      WHERE k.id = v.id`;
  }
}

/** Deletes receipts past the retention; run daily by the API. Returns how many were deleted. */
export async function pruneUsageReceipts(prisma: PrismaClient, now: Date = new Date()): Promise<number> {
  const cutoff = new Date(now.getTime() - USAGE_RECEIPT_RETENTION_DAYS * 24 * HOUR_MS);
  const { count } = await prisma.usageEventReceipt.deleteMany({ where: { processedAt: { lt: cutoff } } });
  return count;
}

function bucketsOf(events: UsageEvent[]): Bucket[] {
  const buckets = new Map<string, Bucket>();
  for (const e of events) {
    const hour = new Date(Math.floor(Date.parse(e.at) / HOUR_MS) * HOUR_MS).toISOString();
    const subject = e.subject ?? '';
    const id = [e.tenantId, e.keyId, subject, e.plugin, e.tool, hour].join('\u0000');
    let bucket = buckets.get(id);
    if (!bucket) {
      bucket = { tenantId: e.tenantId, keyId: e.keyId, subject, plugin: e.plugin, tool: e.tool, hour, calls: 0, errors: 0, durationMs: 0, bytesIn: 0, bytesOut: 0 };
      buckets.set(id, bucket);
    }
    bucket.calls += 1;
    if (e.outcome === 'error') bucket.errors += 1;
    bucket.durationMs += e.durationMs;
    bucket.bytesIn += e.bytesIn;
    bucket.bytesOut += e.bytesOut;
  }
  return [...buckets.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, bucket]) => bucket);
}
