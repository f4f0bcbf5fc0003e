import type { PrismaClient } from '@switchboard/db';
import { systemClock, type Clock } from './principal';

/**
 * Keeps ApiKey.lastUsedAt roughly current without a database write per request: the gateway
 * calls `touch(keyId)` after each successful resolve and the ids are written in one UPDATE per
 * interval. Minute precision is all the key listing needs.
 */

export const DEFAULT_LAST_USED_FLUSH_MS = 60_000;

export class LastUsedTracker {
  private pending = new Set<string>();
  private readonly timer: NodeJS.Timeout;
  private readonly clock: Clock;

  constructor(
    private readonly prisma: PrismaClient,
    options: { flushIntervalMs?: number; clock?: Clock } = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.timer = setInterval(() => void this.flush().catch(() => undefined), options.flushIntervalMs ?? DEFAULT_LAST_USED_FLUSH_MS);
    // Never keeps the process alive on its own.
    this.timer.unref();
  }

  touch(keyId: string): void {
    this.pending.add(keyId);
  }

  /** Writes the keys used since the last flush; returns how many. */
  async flush(): Promise<number> {
    if (this.pending.size === 0) return 0;
    const ids = [...this.pending];
    this.pending = new Set();
    await this.prisma.apiKey.updateMany({ where: { id: { in: ids } }, data: { lastUsedAt: new Date(this.clock.now()) } });
    return ids.length;
  }

  /** Stops the timer and writes what is pending. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
