import { Queue, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { Database } from '@switchboard/db';
import type { Logger } from '@switchboard/logger';
import {
  createUsageWorker,
  DEFAULT_USAGE_QUEUE_PREFIX,
  InProcessUsageSink,
  pruneUsageReceipts,
  UsageAggregator,
  usageQueueStats,
  USAGE_QUEUE_NAME,
  type FailedUsageJob,
  type UsageQueueStats,
} from '@switchboard/metering';
import { ApiError, ApiErrorCode } from '../common/api-error';

/** Receipts only guard against redeliveries; pruning them once a day keeps the table small. */
export const RECEIPT_PRUNE_INTERVAL_MS = 24 * 3_600_000;
/** The first prune waits out the start-up rush, and still runs in deployments restarted daily. */
export const FIRST_RECEIPT_PRUNE_DELAY_MS = 60_000;

/** Where usage events become UsageRecords, and what operators can see of it. */
export interface UsagePipeline {
  readonly mode: 'embedded' | 'bullmq';
  /** Jobs that failed every retry, newest first, from `offset`; always none in embedded mode (nothing is queued). */
  failedJobs(offset: number, limit: number): Promise<{ jobs: FailedUsageJob[]; total: number }>;
  /**
   * Puts a failed job back in the queue with its retries renewed; false when no failed job has
   * that id. Safe to repeat: the aggregator's receipts count each event once.
   */
  retryFailedJob(id: string): Promise<boolean>;
  /** Deletes a failed job and its events for good; false when no failed job has that id. */
  discardFailedJob(id: string): Promise<boolean>;
  /** For the metrics page; in embedded mode the waiting count is the in-process buffer. */
  queueStats(): Promise<UsageQueueStats>;
  /** False while the queue's Redis connection is down; always true in embedded mode. */
  redisReady(): boolean;
  close(): Promise<void>;
}

export interface UsagePipelineOptions {
  db: Database;
  logger: Logger;
  nodeId: string;
  /** Cluster mode: the BullMQ worker consumes what the gateways queue. */
  redisUrl?: string;
  /** BullMQ key prefix; tests set their own so parallel files never share jobs. */
  queuePrefix?: string;
  /** Embedded mode: where a gateway in this process (`npm start`) records; the sink is attached to it. */
  embedded?: { attach(sink: InProcessUsageSink): () => void };
}

/**
 * Cluster mode (REDIS_URL): a BullMQ worker aggregates the gateways' usage jobs into Postgres.
 * Embedded mode: an in-process sink and aggregator, attached to the shared sink a gateway started
 * in the same process (`npm start`) records into (see SharedUsageSink).
 * Both prune old receipts daily.
 */
export function startUsagePipeline(options: UsagePipelineOptions): UsagePipeline {
  const aggregator = new UsageAggregator(options.db.prisma);
  const stopPruning = pruneReceiptsDaily(options);
  if (options.redisUrl) return bullMqPipeline(options, options.redisUrl, aggregator, stopPruning);

  const sink = new InProcessUsageSink(aggregator, { logger: options.logger });
  const withdraw = options.embedded?.attach(sink);
  return {
    mode: 'embedded',
    failedJobs: async () => ({ jobs: [], total: 0 }),
    retryFailedJob: async () => false,
    discardFailedJob: async () => false,
    queueStats: async () => ({ waiting: sink.stats().buffered, active: 0, delayed: 0, failed: 0, lagSeconds: 0 }),
    redisReady: () => true,
    async close() {
      stopPruning();
      withdraw?.();
      await sink.close();
    },
  };
}

function bullMqPipeline(options: UsagePipelineOptions, redisUrl: string, aggregator: UsageAggregator, stopPruning: () => void): UsagePipeline {
  const prefix = options.queuePrefix ?? DEFAULT_USAGE_QUEUE_PREFIX;
  const worker = createUsageWorker({ redisUrl, aggregator, prefix, logger: options.logger });
  // The admin endpoint and the metrics read through their own connection, which gives up after one
  // retry: a scrape or an admin request must not wait for Redis to come back.
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: 1, connectionName: `${options.nodeId}:usage-admin` });
  connection.on('error', () => undefined);
  const queue = new Queue(USAGE_QUEUE_NAME, { connection, prefix });
  queue.on('error', () => undefined);
  const whenReachable = <T>(read: () => Promise<T>): Promise<T> => {
    if (connection.status !== 'ready') {
      return Promise.reject(new ApiError(ApiErrorCode.NOT_READY, 'The usage queue is not reachable.', { reason: 'redis_unavailable' }));
    }
    return read();
  };
  return {
    mode: 'bullmq',
    failedJobs: (offset, limit) =>
      whenReachable(async () => {
        // BullMQ lists failed jobs newest first by index; an index past the end is an empty page.
        const [jobs, total] = await Promise.all([queue.getFailed(offset, offset + limit - 1), queue.getFailedCount()]);
        return { jobs: jobs.map(failedJobView), total };
      }),
    retryFailedJob: (id) =>
      whenReachable(async () => {
        const job = await failedJob(queue, id);
        if (!job) return false;
        await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
        return true;
      }),
    discardFailedJob: (id) =>
      whenReachable(async () => {
        const job = await failedJob(queue, id);
        if (!job) return false;
        await job.remove();
        return true;
      }),
    queueStats: () => whenReachable(() => usageQueueStats(queue)),
    redisReady: () => connection.status === 'ready',
    async close() {
      stopPruning();
      await worker.close();
      connection.disconnect();
      await queue.close().catch(() => undefined);
    },
  };
}

function failedJobView(job: Job): FailedUsageJob {
  return {
    id: String(job.id),
    failedReason: job.failedReason,
    attemptsMade: job.attemptsMade,
    queuedAt: new Date(job.timestamp),
    failedAt: job.finishedOn ? new Date(job.finishedOn) : null,
    // The service never shows a job's events: ids and counts are for the worker.
    events: [],
  };
}

/** The job, if it exists and is in the failed set: a waiting or completed job is not the operator's to retry or drop. */
async function failedJob(queue: Queue, id: string): Promise<Job | undefined> {
  const job = await queue.getJob(id);
  if (!job || (await job.getState()) !== 'failed') return undefined;
  return job;
}

function pruneReceiptsDaily(options: UsagePipelineOptions): () => void {
  const prune = () =>
    pruneUsageReceipts(options.db.prisma).then(
      (deleted) => options.logger.info({ deleted }, 'usage receipts pruned'),
      (error: unknown) => options.logger.warn({ err: error }, 'pruning usage receipts failed; next try tomorrow'),
    );
  let interval: NodeJS.Timeout | undefined;
  // unref'd: the timers never keep a stopping process alive.
  const first = setTimeout(() => {
    void prune();
    interval = setInterval(() => void prune(), RECEIPT_PRUNE_INTERVAL_MS).unref();
  }, FIRST_RECEIPT_PRUNE_DELAY_MS).unref();
  return () => {
    clearTimeout(first);
    clearInterval(interval);
  };
}
