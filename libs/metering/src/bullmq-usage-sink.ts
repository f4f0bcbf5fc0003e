import { Queue, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from '@switchboard/logger';
import { DEFAULT_MAX_BUFFERED_EVENTS, USAGE_BATCH_SIZE, type UsageEvent, type UsageSink, type UsageSinkStats } from './usage-event';
import { settlesWithin } from './settles-within';
import { watchRedisDurability, type RedisDurabilityWatch } from './redis-persistence';
import { USAGE_REDIS_OPTIONS } from './usage-redis';

export const USAGE_QUEUE_NAME = 'usage';
/** One job carries a batch of events: `{ events: UsageEvent[] }`. */
export const USAGE_JOB_NAME = 'usage-events';
/** BullMQ's default key prefix; set the same on producer and worker. */
export const DEFAULT_USAGE_QUEUE_PREFIX = 'bull';

/**
 * Retries with exponential backoff (1 s, 2 s, 4 s … about 4 minutes in all) ride out a database
 * restart; after that the job stays in the failed set for an operator to see.
 * Completed jobs are removed at once: duplicates are stopped by the worker's per-event receipts,
 * not by job ids, and a kept batch would hold up to USAGE_BATCH_SIZE events of Redis memory.
 */
export const USAGE_JOB_OPTIONS: JobsOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: true,
  removeOnFail: { age: 7 * 24 * 3_600 },
};

/** Seconds the producer keeps trying to hand over buffered events on shutdown. */
const CLOSE_DEADLINE_MS = 2_000;
/**
 * After a send failed on a connection that stayed up (e.g. Redis refusing writes when full), the
 * next try; a connection that drops sends again on its next 'ready' instead, with no wait.
 */
export const USAGE_SEND_RETRY_MS = 1_000;

export interface BullMqUsageSinkOptions {
  redisUrl: string;
  queueName?: string;
  prefix?: string;
  maxBuffered?: number;
  jobOptions?: JobsOptions;
  /** Shown in Redis CLIENT LIST, e.g. `gw-1:usage`, so operators can tell connections apart. */
  connectionName?: string;
  logger?: Logger;
}

/**
 * Gateway side: `record` only appends to a bounded local buffer; a background loop hands the
 * buffer to Redis as one job per batch of up to USAGE_BATCH_SIZE events (one BullMQ script per
 * batch, not per event: the per-event job was most of metering's CPU). Batches grow with load,
 * since events gather while the previous batch is on its way. While Redis is away events wait,
 * and beyond the bound they are dropped and counted rather than slowing the tool call; the
 * connection retries at least once a second (USAGE_REDIS_OPTIONS) and sends them when it is ready.
 */
export class BullMqUsageSink implements UsageSink {
  private readonly redis: Redis;
  private readonly queue: Queue;
  private buffer: UsageEvent[] = [];
  private delivered = 0;
  private dropped = 0;
  private sending?: Promise<void>;
  private closed = false;
  private readonly maxBuffered: number;
  private readonly jobOptions: JobsOptions;
  private readonly durability: RedisDurabilityWatch;
  private retryTimer?: NodeJS.Timeout;

  constructor(private readonly options: BullMqUsageSinkOptions) {
    this.maxBuffered = options.maxBuffered ?? DEFAULT_MAX_BUFFERED_EVENTS;
    this.jobOptions = { ...USAGE_JOB_OPTIONS, ...options.jobOptions };
    this.redis = new Redis(options.redisUrl, { ...USAGE_REDIS_OPTIONS, connectionName: options.connectionName });
    this.redis.on('error', () => undefined); // reconnection is automatic; the buffer covers the gap
    // Back from an outage: what gathered meanwhile goes at once, not at the next tool call.
    this.redis.on('ready', () => this.kick());
    this.durability = watchRedisDurability(this.redis, options.logger, 'usage sink');
    this.queue = new Queue(options.queueName ?? USAGE_QUEUE_NAME, {
      connection: this.redis,
      prefix: options.prefix ?? DEFAULT_USAGE_QUEUE_PREFIX,
    });
    this.queue.on('error', () => undefined);
  }

  record(event: UsageEvent): void {
    if (this.closed || this.buffer.length >= this.maxBuffered) {
      this.dropped += 1;
      return;
    }
    this.buffer.push(event);
    this.kick();
  }

  stats(): UsageSinkStats {
    return { buffered: this.buffer.length, delivered: this.delivered, dropped: this.dropped };
  }

  /** Why this Redis may lose usage (persistence, eviction), for readiness details; undefined when it will not. */
  redisWarning(): string | undefined {
    return this.durability.warning();
  }

  /** Resolves when the buffer is empty or Redis is not reachable right now. */
  async flush(): Promise<void> {
    while (this.sending) await this.sending;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    await settlesWithin(this.flush(), CLOSE_DEADLINE_MS);
    this.dropped += this.buffer.length;
    this.buffer = [];
    // Disconnect first: a send stuck on a Redis that went away mid-batch then fails instead of hanging close().
    this.redis.disconnect();
    await this.queue.close().catch(() => undefined);
  }

  private kick(): void {
    if (!this.sending && this.buffer.length > 0 && this.redis.status === 'ready') this.sending = this.send();
  }

  private async send(): Promise<void> {
    // Later turn of the event loop: the tool call that recorded the event finishes first.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      while (this.buffer.length > 0 && this.redis.status === 'ready') {
        const batch = this.buffer.slice(0, USAGE_BATCH_SIZE);
        await this.queue.add(USAGE_JOB_NAME, { events: batch }, this.jobOptions);
        this.buffer.splice(0, batch.length);
        this.delivered += batch.length;
      }
    } catch (error) {
      // The batch stays buffered for the next 'ready' or the retry. If the failed add did reach Redis,
      // its events arrive twice and the worker's receipts count them once.
      this.options.logger?.warn({ err: (error as Error).message, buffered: this.buffer.length }, 'Queueing usage events failed');
      this.retryLater();
    } finally {
      this.sending = undefined;
    }
  }

  private retryLater(): void {
    if (this.closed || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.kick();
    }, USAGE_SEND_RETRY_MS);
    this.retryTimer.unref();
  }
}
