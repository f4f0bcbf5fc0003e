// The whole platform on one machine: the gateway, Redis and the admin API's usage worker (BullMQ
// consumer writing usage rows to Postgres) all running, against the bare SDK server, with the
// same client load. The gateway's calls/s here pays for everything a tool call causes anywhere on
// the machine, where the per-process CPU rows count only the gateway's own.
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { USAGE_QUEUE_NAME, DEFAULT_USAGE_QUEUE_PREFIX } from '@switchboard/metering';
import { startApiProcess, type ApiProcess } from '@switchboard/testing';
import { runLoad, type Endpoint } from './mcp-load';
import type { BenchWorld } from './seed';
import { delay } from './server-process';

export interface PlatformRow {
  target: 'gateway' | 'baseline';
  transport: Endpoint['kind'];
  sessions: number;
  calls: number;
  errors: number;
  seconds: number;
  callsPerSecond: number;
}

export interface PlatformOptions {
  redisUrl: string;
  sessions: number;
  rounds: number;
  roundMs: number;
  log: (line: string) => void;
}

/** The usage backlog of earlier measurements is drained before the first round, so it loads no round. */
const DRAIN_TIMEOUT_MS = 120_000;

export async function measurePlatform(
  world: BenchWorld,
  endpoint: (target: PlatformRow['target']) => Endpoint,
  options: PlatformOptions,
): Promise<PlatformRow[]> {
  const api = await startApi(world, options.redisUrl);
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 1 });
  const queue = new Queue(USAGE_QUEUE_NAME, { connection: redis, prefix: DEFAULT_USAGE_QUEUE_PREFIX });
  try {
    await drained(queue);
    const totals = { gateway: { calls: 0, errors: 0, seconds: 0 }, baseline: { calls: 0, errors: 0, seconds: 0 } };
    // Both servers and the API keep running throughout: the machine is shared, as in production.
    for (let round = 0; round < options.rounds; round++) {
      for (const target of round % 2 === 0 ? (['gateway', 'baseline'] as const) : (['baseline', 'gateway'] as const)) {
        const result = await runLoad(endpoint(target), options.sessions, options.roundMs);
        totals[target].calls += result.calls;
        totals[target].errors += result.errors;
        totals[target].seconds += result.seconds;
      }
    }
    // The worker must keep up: a backlog left at the end would be work the gateway's rounds did not pay for.
    await drained(queue);
    return (['gateway', 'baseline'] as const).map((target) => ({
      target,
      transport: endpoint(target).kind,
      sessions: options.sessions,
      ...totals[target],
      callsPerSecond: totals[target].calls / totals[target].seconds,
    }));
  } finally {
    await queue.close();
    redis.disconnect();
    await api.close();
  }
}

async function drained(queue: Queue): Promise<void> {
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  for (;;) {
    const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized');
    const pending = Object.values(counts).reduce((sum, n) => sum + n, 0);
    if (pending === 0) return;
    if (Date.now() > deadline) throw new Error(`the usage worker left ${pending} jobs after ${DRAIN_TIMEOUT_MS} ms`);
    await delay(250);
  }
}

/** The admin API as production runs it, in cluster mode: its usage worker consumes the gateway's queue. */
function startApi(world: BenchWorld, redisUrl: string): Promise<ApiProcess> {
  const env = world.gatewayEnv;
  return startApiProcess({
    DATABASE_URL: env['DATABASE_URL']!,
    SECRETS_KEY: env['SECRETS_KEY']!,
    KEY_PEPPER: env['KEY_PEPPER']!,
    CLUSTER_SECRET: env['CLUSTER_SECRET']!,
    REDIS_URL: redisUrl,
    ADMIN_JWT_SECRET: randomBytes(32).toString('base64'),
    NODE_ID: `bench-api-${process.pid}`,
    HOST: '127.0.0.1',
    API_PORT: '0',
    API_METRICS_PORT: 'off',
    LOG_LEVEL: 'info',
  });
}
