import { LastUsedTracker } from '@switchboard/api-keys';
import { urlHost, waitForRedisAtStartup } from '@switchboard/config';
import type { Database } from '@switchboard/db';
import { Limiter, LIMITER_REDIS_OPTIONS } from '@switchboard/limits';
import type { Logger } from '@switchboard/logger';
import { BullMqUsageSink, InProcessUsageSink, UsageAggregator, type UsageSink } from '@switchboard/metering';
import { createMetricsRegistry, startMetricsServer, type GatewayMetrics } from '@switchboard/metrics';
import { Redis } from 'ioredis';
import type { GatewayConfig } from '../config/gateway-config';
import { GatewayLimits } from './gateway-limits';
import { ToolCallAccounting } from './tool-call-accounting';
import { GatewayTelemetry } from './gateway-telemetry';

const LIMITS_CONNECTION = 'limits';

export interface LimitsAndMeteringOptions {
  /**
   * Cluster mode: the Redis every node shares, and the prefix of the limit keys (the same on
   * every node of a cluster: that is what makes them share one budget).
   */
  redis?: { url: string; limitsKeyPrefix: string };
  /** BullMQ key prefix of the usage queue; tests give each file its own (the API's must match). */
  usageQueuePrefix?: string;
  /**
   * Embedded mode with the API in this process (`npm start`): the API's in-process sink, which
   * aggregates into the shared database (closing it only flushes). Without it, a sink of our own.
   */
  embeddedUsage?: UsageSink;
}

/** Limits, usage metering and metrics of one gateway node, built once at start-up. */
export interface LimitsAndMetering {
  telemetry: GatewayTelemetry;
  lastUsed: Pick<LastUsedTracker, 'touch'>;
  metrics: GatewayMetrics;
  limits: GatewayLimits;
  toolCalls: ToolCallAccounting;
  /** `http://host:port/metrics`, undefined with GATEWAY_METRICS_PORT=off. */
  metricsUrl: string | undefined;
  /** What /readyz shows without failing readiness, e.g. a Redis that would lose queued usage. */
  warnings(): string[];
  /** After the sessions drained: hands over the last usage events and key last-use times. */
  close(): Promise<void>;
}

/**
 * Cluster mode (REDIS_URL): limits shared by every node in Redis, usage events to the BullMQ
 * queue the API's worker consumes. Embedded: in-memory limits, usage events into the API's
 * in-process sink when the API runs in this process (`npm start`), else into a sink of our own.
 */
export async function startLimitsAndMetering(
  config: GatewayConfig,
  db: Database,
  logger: Logger,
  options: LimitsAndMeteringOptions = {},
): Promise<LimitsAndMetering> {
  const { sink: usage, redisWarning } = openUsageSink(config, db, logger, options);
  let reportedDrops = 0;
  const metrics = createMetricsRegistry({
    app: 'gateway',
    nodeId: config.nodeId,
    // Read at scrape time; drops are counted here too, the sink only keeps a running total.
    usageQueueDepth: () => {
      const stats = usage.stats();
      metrics.usageEventsDropped.inc(stats.dropped - reportedDrops);
      reportedDrops = stats.dropped;
      return stats.buffered;
    },
  });
  const telemetry = new GatewayTelemetry(metrics);

  const limiterRedis = options.redis ? await connectLimiterRedis(options.redis.url, config.nodeId, config.limits.commandTimeoutMs, metrics, logger) : undefined;
  const limiter = new Limiter({
    redis: limiterRedis,
    keyPrefix: options.redis?.limitsKeyPrefix,
    defaults: config.limits.defaults,
    failureMode: config.limits.failureMode,
    leases: config.limits.leases,
    logger,
    onStoreError: () => metrics.limitsStoreErrors.inc(),
  });
  const limits = new GatewayLimits(limiter, telemetry);
  const lastUsed = new LastUsedTracker(db.prisma);

  const metricsServer = config.metrics
    ? await startMetricsServer({ port: config.metrics.port, host: config.metrics.host, registry: metrics.registry })
    : undefined;
  const metricsUrl = metricsServer && config.metrics ? `http://${urlHost(config.metrics.host)}:${metricsServer.port}/metrics` : undefined;

  return {
    metrics,
    telemetry,
    limits,
    lastUsed,
    toolCalls: new ToolCallAccounting(limits, usage, telemetry),
    metricsUrl,
    warnings: () => {
      const warning = redisWarning?.();
      return warning ? [warning] : [];
    },
    async close() {
      await limiter.close();
      await usage.close();
      await lastUsed.close().catch((error) => logger.warn({ err: error }, 'could not record the keys last use'));
      limiterRedis?.disconnect();
      await metricsServer?.close();
    },
  };
}

interface OpenedUsageSink {
  sink: UsageSink;
  /** Cluster mode: why the queue's Redis may lose usage (it logs this itself on each connect). */
  redisWarning?: () => string | undefined;
}

function openUsageSink(config: GatewayConfig, db: Database, logger: Logger, options: LimitsAndMeteringOptions): OpenedUsageSink {
  if (options.redis) {
    const sink = new BullMqUsageSink({
      redisUrl: options.redis.url,
      prefix: options.usageQueuePrefix,
      connectionName: `${config.nodeId}:usage`,
      flushIntervalMs: config.usage.flushIntervalMs,
      logger,
    });
    return { sink, redisWarning: () => sink.redisWarning() };
  }
  return { sink: options.embeddedUsage ?? new InProcessUsageSink(new UsageAggregator(db.prisma), { logger }) };
}

/**
 * The limiter's own connection: no offline queue and a short command timeout, so a check during
 * an outage fails at once (and the failure mode decides) instead of waiting for Redis.
 */
async function connectLimiterRedis(redisUrl: string, nodeId: string, commandTimeout: number, metrics: GatewayMetrics, logger: Logger): Promise<Redis> {
  const redis = new Redis(redisUrl, { ...LIMITER_REDIS_OPTIONS, commandTimeout, connectionName: `${nodeId}:${LIMITS_CONNECTION}` });
  const up = metrics.redisConnectionUp.labels(LIMITS_CONNECTION);
  up.set(0);
  redis.on('ready', () => up.set(1));
  redis.on('close', () => up.set(0));
  // Reconnection is automatic; each failed check is counted and logged by the limiter.
  redis.on('error', () => undefined);
  // Until it is ready every check fails, and the failure mode (open or closed) decides.
  const ready = redis.status === 'ready' ? Promise.resolve() : new Promise<void>((resolve) => redis.once('ready', () => resolve()));
  await waitForRedisAtStartup(ready, logger, 'limits Redis not ready; serving anyway');
  return redis;
}
