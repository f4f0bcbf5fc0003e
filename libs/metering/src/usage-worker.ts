import { UnrecoverableError, Worker, type Job, type Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { z } from 'zod';
import type { Logger } from '@switchboard/logger';
import { DEFAULT_USAGE_QUEUE_PREFIX, USAGE_QUEUE_NAME } from './bullmq-usage-sink';
import type { AggregationResult, UsageAggregator } from './usage-aggregator';
import { settlesWithin } from './settles-within';
import { watchRedisDurability } from './redis-persistence';
import { USAGE_REDIS_OPTIONS } from './usage-redis';
import { usageEventSchema, type UsageEvent } from './usage-event';

/** Jobs processed at once per worker; each is one transaction for its batch. */
export const DEFAULT_USAGE_WORKER_CONCURRENCY = 8;
/**
 * How long close() lets the jobs in hand finish. BullMQ's Worker.close() can wait for ever when
 * its blocking connection is reconnecting (taskforcesh/bullmq#4656), which a Redis blip at
 * shutdown causes; past this the worker is disconnected instead. A job cut short is redelivered
 * and, thanks to receipts, counted once.
 */
export const USAGE_WORKER_CLOSE_GRACE_MS = 5_000;
/**
 * The job of a worker that crashed is taken up again once its lock has expired and a stalled
 * check has seen it: up to USAGE_JOB_LOCK_MS + USAGE_STALLED_CHECK_MS after the crash (BullMQ's
 * 30 s + 30 s made that a minute). A live worker renews its locks by timer every half lock
 * (5 s), whatever its jobs are doing, so it loses one only to an event loop blocked for seconds or
 * a Redis outage longer than the lock; the job then runs once more and receipts count it once.
 * Shorter would buy little: each stalled check is one script per worker.
 */
export const USAGE_JOB_LOCK_MS = 10_000;
export const USAGE_STALLED_CHECK_MS = 5_000;
/**
 * Stalls a job may go through before it fails for good. A rerun is harmless (receipts), and an
 * outage longer than the lock stalls every job in hand, so more than BullMQ's 1.
 */
export const USAGE_MAX_STALLED_COUNT = 3;

export interface UsageWorkerOptions {
  redisUrl: string;
  aggregator: UsageAggregator;
  queueName?: string;
  prefix?: string;
  concurrency?: number;
  logger?: Logger;
}

export interface UsageWorker {
  readonly worker: Worker;
  close(): Promise<void>;
}

/** What the gateway queues: a batch. Entries are checked one by one, so a bad one fails alone. */
const usageBatchSchema = z.object({ events: z.array(z.unknown()).min(1) });

interface ParsedUsageJob {
  events: UsageEvent[];
  /** Why each entry of the batch that is not a usage event was refused. */
  refused: string[];
}

/**
 * A batch `{ events }`, or one bare event as gateways queued it before batching (such jobs can
 * still wait in the queue during an upgrade). Unknown fields are stripped. Undefined for garbage.
 */
function parseUsageJob(data: unknown): ParsedUsageJob | undefined {
  const batch = usageBatchSchema.safeParse(data);
  if (batch.success) {
    const parsed: ParsedUsageJob = { events: [], refused: [] };
    batch.data.events.forEach((entry, index) => {
      const event = usageEventSchema.safeParse(entry);
      if (event.success) parsed.events.push(event.data);
      else parsed.refused.push(`entry ${index}: ${event.error.issues[0]?.message}`);
    });
    return parsed;
  }
  const single = usageEventSchema.safeParse(data);
  return single.success ? { events: [single.data], refused: [] } : undefined;
}

/**
 * API side: consumes usage jobs into UsageRecord, one transaction per job. A job that fails is
 * retried with the backoff set by the producer (USAGE_JOB_OPTIONS); a job whose data is not usage
 * fails at once. In a batch with some bad entries the good ones are counted and the job then fails
 * at once, so it shows in the failed list (a retry of it counts nothing twice: receipts).
 */
export function createUsageWorker(options: UsageWorkerOptions): UsageWorker {
  // BullMQ's blocking reads need a connection that retries for ever; its duplicates share the options.
  const connection = new Redis(options.redisUrl, USAGE_REDIS_OPTIONS);
  connection.on('error', () => undefined);
  watchRedisDurability(connection, options.logger, 'usage worker');
  const worker = new Worker(
    options.queueName ?? USAGE_QUEUE_NAME,
    async (job: Job): Promise<AggregationResult> => {
      const parsed = parseUsageJob(job.data);
      if (!parsed) throw new UnrecoverableError('Not a usage event or a batch of usage events');
      const result = await options.aggregator.apply(parsed.events);
      if (parsed.refused.length > 0) {
        const total = parsed.refused.length + parsed.events.length;
        const why = parsed.refused.slice(0, 3).join('; ');
        throw new UnrecoverableError(`Not a usage event: ${parsed.refused.length} of ${total} entries (${why}); the other ${parsed.events.length} were counted`);
      }
      return result;
    },
    {
      connection,
      prefix: options.prefix ?? DEFAULT_USAGE_QUEUE_PREFIX,
      concurrency: options.concurrency ?? DEFAULT_USAGE_WORKER_CONCURRENCY,
      lockDuration: USAGE_JOB_LOCK_MS,
      stalledInterval: USAGE_STALLED_CHECK_MS,
      maxStalledCount: USAGE_MAX_STALLED_COUNT,
    },
  );
  // One line per outage, not one per reconnect attempt (about one a second: USAGE_REDIS_OPTIONS).
  let redisAway = false;
  connection.on('ready', () => {
    if (redisAway) options.logger?.info('Usage worker reconnected to Redis');
    redisAway = false;
  });
  worker.on('error', (error) => {
    if (isConnectionError(error)) {
      if (!redisAway) options.logger?.warn({ err: error.message }, 'Usage worker lost Redis; retrying');
      redisAway = true;
      return;
    }
    options.logger?.warn({ err: error.message }, 'Usage worker error');
  });
  worker.on('failed', (job, error) => {
    if (job && (error instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1))) {
      options.logger?.error({ jobId: job.id, err: error.message, attempts: job.attemptsMade }, 'Usage job failed for good');
    }
  });
  return {
    worker,
    async close() {
      if (!(await settlesWithin(worker.close(), USAGE_WORKER_CLOSE_GRACE_MS))) {
        options.logger?.warn({ graceMs: USAGE_WORKER_CLOSE_GRACE_MS }, 'usage worker did not close in time; disconnecting it');
        await settlesWithin(worker.disconnect(), USAGE_WORKER_CLOSE_GRACE_MS);
      }
      connection.disconnect();
    },
  };
}

const CONNECTION_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

function isConnectionError(error: Error): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return (code !== undefined && CONNECTION_ERROR_CODES.has(code)) || error.message === 'Connection is closed.';
}

export interface FailedUsageJob {
  id: string;
  failedReason: string;
  attemptsMade: number;
  /** When the job was added to the queue. */
  queuedAt: Date;
  failedAt: Date | null;
  /**
   * The job's usage events as validated (ids and counts only; unknown fields stripped), so nothing
   * else a broken producer put in the job is shown. Empty for a job that is not usage.
   */
  events: UsageEvent[];
}

/** The most recent failed jobs, for an admin endpoint. */
export async function failedUsageJobs(queue: Queue, limit = 50): Promise<FailedUsageJob[]> {
  const jobs = await queue.getFailed(0, Math.max(limit, 1) - 1);
  return jobs.map((job) => ({
    id: String(job.id),
    failedReason: job.failedReason,
    attemptsMade: job.attemptsMade,
    queuedAt: new Date(job.timestamp),
    failedAt: job.finishedOn ? new Date(job.finishedOn) : null,
    events: parseUsageJob(job.data)?.events ?? [],
  }));
}

export interface UsageQueueStats {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  /** Seconds the oldest waiting job has waited: how far the worker is behind. */
  lagSeconds: number;
}

/** Queue depth, failures and lag, for the API's metrics. */
export async function usageQueueStats(queue: Queue, now: number = Date.now()): Promise<UsageQueueStats> {
  const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
  const [oldest] = await queue.getWaiting(0, 0);
  return {
    waiting: counts.waiting ?? 0,
    active: counts.active ?? 0,
    delayed: counts.delayed ?? 0,
    failed: counts.failed ?? 0,
    lagSeconds: oldest ? Math.max((now - oldest.timestamp) / 1000, 0) : 0,
  };
}
