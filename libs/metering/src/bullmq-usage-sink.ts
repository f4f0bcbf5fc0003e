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
/**
 * How long a recorded event may wait for others to join its batch. Sending as soon as the previous
 * job was on its way made batches of two or three events at moderate load (about 3 Redis commands
 * per tool call for the job); 250 ms gathers every call of that time into one job (at 400 calls/s
 * a batch of 100: 0.03 commands per call), while usage still reaches the API's worker well within
 * a second, which nothing reading hourly buckets can tell apart. The price is what a `kill -9`
 * loses from the buffer: up to this much more of the node's last calls. A full batch
 * (USAGE_BATCH_SIZE) and shutdown send at once.
 */
export const DEFAULT_USAGE_FLUSH_INTERVAL_MS = 250;

export interface BullMqUsageSinkOptions {
  redisUrl: string;
  queueName?: string;
  prefix?: string;
  maxBuffered?: number;
  jobOptions?: JobsOptions;
  /** Linger before a batch goes (DEFAULT_USAGE_FLUSH_INTERVAL_MS); 0 sends as soon as the previous job is on its way. */
  flushIntervalMs?: number;
  /** Shown in Redis CLIENT LIST, e.g. `gw-1:usage`, so operators can tell connections apart. */
  connectionName?: string;
  logger?: Logger;
}

/**
 * Gateway side: `record` only appends to a bounded local buffer; a background loop hands the
 * buffer to Redis as one job per batch of up to USAGE_BATCH_SIZE events (one BullMQ script per
 * batch, not per event: the per-event job was most of metering's CPU). A batch goes when its first
 * event has waited `flushIntervalMs`, or at once when it is full, so batches grow with load and a
 * job costs a handful of Redis commands per batch, not per call. While Redis is away events wait,
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
  private lingerTimer?: NodeJS.Timeout;
  private readonly flushIntervalMs: number;
  private readonly sendNow = () => {
    this.lingerTimer = undefined;
    this.kick();
  };

  constructor(private readonly options: BullMqUsageSinkOptions) {
    this.maxBuffered = options.maxBuffered ?? DEFAULT_MAX_BUFFERED_EVENTS;
    this.flushIntervalMs = options.flushIntervalMs ?? DEFAULT_USAGE_FLUSH_INTERVAL_MS;
    if (!Number.isSafeInteger(this.flushIntervalMs) || this.flushIntervalMs < 0) throw new RangeError(`flushIntervalMs must be a non-negative integer, got ${this.flushIntervalMs}`);
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
    if (this.buffer.length >= USAGE_BATCH_SIZE || this.flushIntervalMs === 0) this.kick();
    else this.linger();
  }

  stats(): UsageSinkStats {
    return { buffered: this.buffer.length, delivered: this.delivered, dropped: this.dropped };
  }

  /** Why this Redis may lose usage (persistence, eviction), for readiness details; undefined when it will not. */
  redisWarning(): string | undefined {
    return this.durability.warning();
  }

  /** Sends what is buffered now, without lingering; resolves when the buffer is empty or Redis is not reachable right now. */
  async flush(): Promise<void> {
    this.kick();
    while (this.sending) {
      const delivered = this.delivered;
      await this.sending;
      // Until the buffer is empty, as long as sends get through (a failing one waits for its retry).
      if (this.delivered > delivered) this.kick();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    await settlesWithin(this.flush(), CLOSE_DEADLINE_MS);
    this.dropped += this.buffer.length;
    this.buffer = [];
    // Disconnect first: a send stuck on a Redis that went away mid-batch then fails instead of hanging close().
    this.redis.disconnect();
    await this.queue.close().catch(() => undefined);
  }

  /** Sends now: a full batch, the linger ran out, Redis is back, or a flush. */
  private kick(): void {
    if (!this.sending && this.buffer.length > 0 && this.redis.status === 'ready') {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
      this.sending = this.send();
    }
  }

  /** The first event of a batch starts the clock; later ones join it. */
  private linger(): void {
    if (this.lingerTimer || this.sending) return;
    this.lingerTimer = setTimeout(this.sendNow, this.flushIntervalMs);
    this.lingerTimer.unref();
  }

  private async send(): Promise<void> {
    // Later turn of the event loop: the tool call that recorded the event finishes first.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      // Everything buffered goes now; events recorded meanwhile wait for a batch of their own, unless
      // a full one gathered (or the sink is closing, or lingering is off).
      let first = true;
      while (this.buffer.length > 0 && this.redis.status === 'ready' && (first || this.closed || this.flushIntervalMs === 0 || this.buffer.length >= USAGE_BATCH_SIZE)) {
        first = false;
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
    if (this.buffer.length > 0 && !this.retryTimer && !this.closed) this.linger();
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
