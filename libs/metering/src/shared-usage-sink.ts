import type { InProcessUsageSink } from './in-process-usage-sink';
import type { UsageEvent, UsageSink, UsageSinkStats } from './usage-event';

const NO_STATS: UsageSinkStats = { buffered: 0, delivered: 0, dropped: 0 };

/**
 * Embedded mode (no REDIS_URL): the usage sink the two apps of one process share. The launcher
 * (`npm start`) builds one and hands it to both: the admin API attaches the InProcessUsageSink it
 * owns (its aggregator, its database), and the gateway records into this. Its close() only
 * flushes: the API closes the real sink, after the gateway.
 */
export class SharedUsageSink implements UsageSink {
  private owner: InProcessUsageSink | undefined;
  /** Events recorded while no owner was attached: lost, and counted as dropped. */
  private unowned = 0;

  /** Returns the function that withdraws it, which the API calls when it shuts down. */
  attach(owner: InProcessUsageSink): () => void {
    // Last one wins: two APIs on one sink only happen in tests, and each withdraws its own.
    this.owner = owner;
    return () => {
      if (this.owner === owner) this.owner = undefined;
    };
  }

  record(event: UsageEvent): void {
    if (this.owner) this.owner.record(event);
    else this.unowned += 1;
  }

  stats(): UsageSinkStats {
    const stats = this.owner?.stats() ?? NO_STATS;
    return { ...stats, dropped: stats.dropped + this.unowned };
  }

  /** Resolves when everything recorded so far is written. */
  flush(): Promise<void> {
    return this.owner?.flush() ?? Promise.resolve();
  }

  close(): Promise<void> {
    return this.flush();
  }
}
