import type { WindowCounters, WindowResult } from './window-counters';

/** The quota key of a month outlives it a little, so clock differences never reset a month early. */
export const QUOTA_KEY_TTL_SECONDS = 32 * 24 * 60 * 60;

/** "2026-11" for any instant of November 2026, UTC. */
export function utcMonth(now: Date): string {
  return now.toISOString().slice(0, 7);
}

/** Start of the next calendar month (UTC) and the length of the current one. */
export function monthBounds(now: Date): { resetMs: number; monthSeconds: number } {
  const start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const next = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
  return { resetMs: next - now.getTime(), monthSeconds: (next - start) / 1000 };
}

/** Tool calls per tenant per calendar month (UTC): the counter key names the month. */
export interface MonthlyQuota {
  consume(tenantId: string, limit: number, now: Date): Promise<WindowResult>;
}

/** Shared across nodes through the same rate-limiter-flexible counters as the per-minute limits. */
export class RedisMonthlyQuota implements MonthlyQuota {
  constructor(private readonly counters: WindowCounters) {}

  async consume(tenantId: string, limit: number, now: Date): Promise<WindowResult> {
    const result = await this.counters.consume('monthlyToolCalls', `tenant:${tenantId}:${utcMonth(now)}`, limit, QUOTA_KEY_TTL_SECONDS);
    // The library measures from the first call of the month; the month really ends at its boundary.
    return { ...result, resetMs: monthBounds(now).resetMs };
  }
}

/**
 * Embedded mode. Not RateLimiterMemory: it expires records with setTimeout, which cannot wait a
 * month (timers overflow after 24.8 days and fire at once).
 */
export class MemoryMonthlyQuota implements MonthlyQuota {
  /** Calls per tenant in `month`; a new month starts from an empty map. */
  private used = new Map<string, number>();
  private month = '';

  async consume(tenantId: string, limit: number, now: Date): Promise<WindowResult> {
    const month = utcMonth(now);
    if (month !== this.month) {
      this.month = month;
      this.used = new Map();
    }
    const used = (this.used.get(tenantId) ?? 0) + 1;
    this.used.set(tenantId, used);
    return { allowed: used <= limit, remaining: Math.max(limit - used, 0), resetMs: monthBounds(now).resetMs };
  }
}
