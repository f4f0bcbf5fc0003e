import type { Logger } from '@switchboard/logger';
import type { UsageAggregator } from './usage-aggregator';
import { DEFAULT_MAX_BUFFERED_EVENTS, USAGE_BATCH_SIZE, type UsageEvent, type UsageSink, type UsageSinkStats } from './usage-event';

/** After a failed write (database busy or away), wait this long before trying the batch again. */
const RETRY_DELAY_MS = 1_000;

export interface InProcessUsageSinkOptions {
  maxBuffered?: number;
  logger?: Logger;
}

/**
 * Embedded mode (no Redis): events wait in memory and the same aggregator writes them in batches,
 * in this process, off the request path.
 */
export class InProcessUsageSink implements UsageSink {
  private buffer: UsageEvent[] = [];
  private delivered = 0;
  private dropped = 0;
  private draining?: Promise<void>;
  private retryTimer?: NodeJS.Timeout;
  private readonly maxBuffered: number;

  constructor(
    private readonly aggregator: UsageAggregator,
    private readonly options: InProcessUsageSinkOptions = {},
  ) {
    this.maxBuffered = options.maxBuffered ?? DEFAULT_MAX_BUFFERED_EVENTS;
  }

  record(event: UsageEvent): void {
    if (this.buffer.length >= this.maxBuffered) {
      this.dropped += 1;
      return;
    }
    this.buffer.push(event);
    if (!this.draining && !this.retryTimer) this.draining = this.drain();
  }

  stats(): UsageSinkStats {
    return { buffered: this.buffer.length, delivered: this.delivered, dropped: this.dropped };
  }

  /** Resolves when everything recorded so far is written (or a write failed and awaits retry). */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  async close(): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.flush();
    if (this.buffer.length > 0) this.draining = this.drain();
    await this.flush();
  }

  private async drain(): Promise<void> {
    // Let the caller's tool call finish first; the write happens on a later turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      while (this.buffer.length > 0) {
        const batch = this.buffer.slice(0, USAGE_BATCH_SIZE);
        await this.aggregator.apply(batch);
        this.buffer.splice(0, batch.length);
        this.delivered += batch.length;
      }
    } catch (error) {
      this.options.logger?.warn({ err: (error as Error).message, buffered: this.buffer.length }, 'Writing usage failed; will retry');
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.draining = this.drain();
      }, RETRY_DELAY_MS);
      this.retryTimer.unref();
    } finally {
      this.draining = undefined;
    }
  }
}
