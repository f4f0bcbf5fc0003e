import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { Database } from '@switchboard/db';
import { createMigratedDatabase, testRedisUrl } from '@switchboard/testing';
import { startPrivateRedis, type PrivateRedis } from '../test/private-redis';
import { BullMqUsageSink, USAGE_JOB_NAME, USAGE_QUEUE_NAME } from './bullmq-usage-sink';
import { queryUsage } from './query-usage';
import { UsageAggregator, type AggregationResult } from './usage-aggregator';
import { createUsageEvent, type UsageEvent } from './usage-event';
import { eventsHandled } from '../test/worker-events';
import { createUsageWorker, type UsageWorker } from './usage-worker';

// Redis restarts happen on a redis-server of this file's own, never on the shared one.
const PREFIX = `sb-outage-${randomBytes(4).toString('hex')}`;
const AT = new Date('2026-11-20T10:01:00Z');
/**
 * How long Redis stays away: the length of the fault, not a wait for something. Long enough for
 * ioredis's default backoff (which the usage connections no longer use) to have grown to seconds.
 */
const OUTAGE_MS = 6_000;

let database: Awaited<ReturnType<typeof createMigratedDatabase>>;
let db: Database;
let tenantId: string;
let keyId: string;

function event(): UsageEvent {
  return createUsageEvent({ tenantId, keyId, plugin: 'notes', tool: 'search', outcome: 'ok', durationMs: 7, bytesIn: 10, bytesOut: 100 }, AT);
}

async function totals() {
  return queryUsage(db.prisma, { tenantId, from: new Date('2026-01-01T00:00:00Z'), to: new Date('2027-01-01T00:00:00Z'), groupBy: 'plugin' });
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));


beforeAll(async () => {
  database = await createMigratedDatabase('metering_outage');
  db = database.db;
  tenantId = (await db.prisma.tenant.create({ data: { slug: `t-${randomBytes(3).toString('hex')}`, name: 'Acme' } })).id;
  keyId = (
    await db.prisma.apiKey.create({
      data: { tenantId, name: 'main', publicId: randomBytes(8).toString('hex'), secretHash: Buffer.alloc(32), pepperId: 'p1', createdBy: 'test' },
    })
  ).id;
});

afterAll(async () => {
  await database.close();
});

describe('the BullMQ usage pipeline across a Redis restart', () => {
  let redis: PrivateRedis;

  beforeEach(async () => {
    await db.prisma.usageRecord.deleteMany({});
    await db.prisma.usageEventReceipt.deleteMany({});
    // Persistence on, as docs/configuration.md asks: what was queued before the stop survives it.
    redis = await startPrivateRedis(['--appendonly', 'yes', '--appendfsync', 'always']);
  });

  afterEach(async () => {
    await redis.close();
  });

  it('counts every event recorded before, during and after the outage exactly once when Redis is back', async () => {
    const worker = createUsageWorker({ redisUrl: redis.url, aggregator: new UsageAggregator(db.prisma), prefix: PREFIX });
    const sink = new BullMqUsageSink({ redisUrl: redis.url, prefix: PREFIX });
    try {
      const before = eventsHandled(worker, 20);
      for (let i = 0; i < 20; i++) sink.record(event());
      await before;

      await redis.stop();
      for (let i = 0; i < 30; i++) sink.record(event());
      expect(sink.stats()).toMatchObject({ buffered: 30, dropped: 0 });
      await pause(OUTAGE_MS);

      const during = eventsHandled(worker, 30);
      await redis.start();
      const back = Date.now();
      await during;
      const resumedMs = Date.now() - back;
      const after = eventsHandled(worker, 1);
      sink.record(event());
      await after;

      expect(await totals()).toEqual([{ group: 'notes', calls: 51, errors: 0, totalDurationMs: 357, bytesIn: 510, bytesOut: 5100 }]);
      expect(await db.prisma.usageEventReceipt.count()).toBe(51);
      expect(sink.stats()).toEqual({ buffered: 0, delivered: 51, dropped: 0 });
      // Measured, not asserted (machine speed varies).
      process.stdout.write(`redis-outage: events of a ${OUTAGE_MS} ms outage counted ${resumedMs} ms after Redis was back\n`);
    } finally {
      await sink.close();
      await worker.close();
    }
  }, 60_000);

  it('counts the batch a worker was writing when Redis stopped once, and the events queued after it', async () => {
    const real = new UsageAggregator(db.prisma);
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let inHand: () => void = () => undefined;
    const jobInHand = new Promise<void>((resolve) => (inHand = resolve));
    const aggregator = {
      async apply(events: UsageEvent[]) {
        inHand();
        await released;
        return real.apply(events);
      },
    } as unknown as UsageAggregator;
    const worker = createUsageWorker({ redisUrl: redis.url, aggregator, prefix: PREFIX, concurrency: 1 });
    const sink = new BullMqUsageSink({ redisUrl: redis.url, prefix: PREFIX });
    try {
      const all = eventsHandled(worker, 50);
      for (let i = 0; i < 20; i++) sink.record(event());
      await jobInHand;
      await redis.stop();
      release(); // written to Postgres while the job's completion waits for Redis
      for (let i = 0; i < 30; i++) sink.record(event());
      await pause(OUTAGE_MS);
      await redis.start();
      await all;

      expect(await totals()).toEqual([{ group: 'notes', calls: 50, errors: 0, totalDurationMs: 350, bytesIn: 500, bytesOut: 5000 }]);
      expect(await db.prisma.usageEventReceipt.count()).toBe(50);
    } finally {
      await sink.close();
      await worker.close();
    }
  }, 60_000);
});

describe('a usage worker that crashes mid-job', () => {
  const queueName = `${USAGE_QUEUE_NAME}-${randomBytes(3).toString('hex')}`;
  let admin: Redis;
  let queue: Queue;

  beforeAll(() => {
    admin = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
    queue = new Queue(queueName, { connection: admin, prefix: PREFIX });
  });

  afterAll(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    admin.disconnect();
  });

  it("has its job taken up by another worker, which counts the crashed worker's committed events once", async () => {
    await db.prisma.usageRecord.deleteMany({});
    await db.prisma.usageEventReceipt.deleteMany({});
    const fixture = path.resolve(__dirname, '../../../dist/libs/metering/test/crash-worker.fixture.js');
    const child = spawn(process.execPath, [fixture, testRedisUrl(), queueName, PREFIX, database.test.url], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout! });
    const line = (wanted: string) => new Promise<void>((resolve) => lines.on('line', (text) => text === wanted && resolve()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let survivor: UsageWorker | undefined;
    try {
      await line('running');
      const applied = line('applied 12');
      const events = Array.from({ length: 12 }, () => event());
      await queue.add(USAGE_JOB_NAME, { events });
      await applied; // committed to Postgres; BullMQ still holds the job as active under the child's lock
      child.kill('SIGKILL');
      await exited;
      const killed = Date.now();

      survivor = createUsageWorker({ redisUrl: testRedisUrl(), aggregator: new UsageAggregator(db.prisma), queueName, prefix: PREFIX });
      const redelivered = new Promise<AggregationResult>((resolve) => survivor!.worker.on('completed', (_job, result: AggregationResult) => resolve(result)));
      expect(await redelivered).toEqual({ applied: 0, duplicates: 12 });
      const takenUpMs = Date.now() - killed;

      expect(await totals()).toEqual([{ group: 'notes', calls: 12, errors: 0, totalDurationMs: 84, bytesIn: 120, bytesOut: 1200 }]);
      expect(await queue.getJobCounts('active', 'waiting', 'failed')).toEqual({ active: 0, waiting: 0, failed: 0 });
      process.stdout.write(`redis-outage: job of a crashed worker taken up ${takenUpMs} ms after the crash\n`);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      await survivor?.close();
    }
  }, 90_000);
});
