import { randomBytes, randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { openDatabase, type Database } from '@switchboard/db';
import { createMigratedDatabase, startTcpProxy, testRedisUrl } from '@switchboard/testing';
import { BullMqUsageSink, USAGE_JOB_NAME, USAGE_QUEUE_NAME } from './bullmq-usage-sink';
import { InProcessUsageSink } from './in-process-usage-sink';
import { queryUsage, type UsageGroupBy } from './query-usage';
import { UsageAggregator, pruneUsageReceipts, USAGE_RECEIPT_RETENTION_DAYS } from './usage-aggregator';
import { createUsageEvent, type UsageEvent } from './usage-event';
import { eventsHandled } from '../test/worker-events';
import { createUsageWorker, failedUsageJobs, usageQueueStats } from './usage-worker';

// Own BullMQ prefix per run: parallel test files never see each other's jobs.
const PREFIX = `sb-test-${randomBytes(4).toString('hex')}`;
const HOUR = new Date('2026-11-20T10:00:00Z');

let database: Awaited<ReturnType<typeof createMigratedDatabase>>;
let db: Database;
let tenantId: string;
let keyId: string;
let otherKeyId: string;

async function createKey(name: string): Promise<string> {
  const key = await db.prisma.apiKey.create({
    data: { tenantId, name, publicId: randomBytes(8).toString('hex'), secretHash: Buffer.alloc(32), pepperId: 'p1', createdBy: 'test' },
  });
  return key.id;
}

function event(overrides: Partial<UsageEvent> = {}, at = new Date(HOUR.getTime() + 60_000)): UsageEvent {
  return {
    ...createUsageEvent({ tenantId, keyId, plugin: 'notes', tool: 'search', outcome: 'ok', durationMs: 12, bytesIn: 100, bytesOut: 1000 }, at),
    ...overrides,
  };
}

async function totals(groupBy: UsageGroupBy = 'plugin') {
  return queryUsage(db.prisma, { tenantId, from: new Date('2026-01-01T00:00:00Z'), to: new Date('2027-01-01T00:00:00Z'), groupBy });
}

async function clearUsage() {
  await db.prisma.usageRecord.deleteMany({});
  await db.prisma.usageEventReceipt.deleteMany({});
}


beforeAll(async () => {
  database = await createMigratedDatabase('metering');
  db = database.db;
  tenantId = (await db.prisma.tenant.create({ data: { slug: `t-${randomBytes(3).toString('hex')}`, name: 'Acme' } })).id;
  keyId = await createKey('main');
  otherKeyId = await createKey('ci');
});

afterAll(async () => {
  await database.close();
});

describe('UsageAggregator', () => {
  const aggregator = () => new UsageAggregator(db.prisma);
  beforeEach(clearUsage);

  it('counts the same event once, in one batch and when delivered again later', async () => {
    const once = event();
    expect(await aggregator().apply([once, once])).toEqual({ applied: 1, duplicates: 1 });
    expect(await aggregator().apply([once])).toEqual({ applied: 0, duplicates: 1 });
    expect(await totals()).toEqual([{ group: 'notes', calls: 1, errors: 0, totalDurationMs: 12, bytesIn: 100, bytesOut: 1000 }]);
  });

  it('counts each event once when two aggregators on separate connections apply the same events at the same time', async () => {
    const events = Array.from({ length: 40 }, (_, i) => event({ outcome: i % 4 === 0 ? 'error' : 'ok' }));
    const second = openDatabase({ url: database.test.url, dataDir: '' });
    try {
      const results = await Promise.all([
        new UsageAggregator(db.prisma).apply(events),
        new UsageAggregator(second.prisma).apply([...events].reverse()),
      ]);
      expect(results[0].applied + results[1].applied).toBe(40);
    } finally {
      await second.close();
    }
    expect(await totals()).toEqual([{ group: 'notes', calls: 40, errors: 10, totalDurationMs: 480, bytesIn: 4000, bytesOut: 40000 }]);
  });

  it("moves the key's lastUsedAt forward only, whatever order events arrive in", async () => {
    const late = new Date(HOUR.getTime() + 50 * 60_000);
    await aggregator().apply([event({}, late)]);
    await aggregator().apply([event({}, new Date(HOUR.getTime() + 5 * 60_000))]);
    const key = await db.prisma.apiKey.findUniqueOrThrow({ where: { id: keyId } });
    expect(key.lastUsedAt).toEqual(late);
  });

  it('groups totals by plugin, tool, key and hour', async () => {
    const nextHour = new Date(HOUR.getTime() + 3_600_000 + 1);
    await aggregator().apply([
      event(),
      event({ tool: 'create' }),
      event({ keyId: otherKeyId, plugin: 'echo', tool: 'echo' }),
      event({}, nextHour),
    ]);
    expect((await totals('plugin')).map((t) => [t.group, t.calls])).toEqual([['echo', 1], ['notes', 3]]);
    expect((await totals('tool')).map((t) => [t.group, t.calls])).toEqual([['echo/echo', 1], ['notes/create', 1], ['notes/search', 2]]);
    expect((await totals('key')).map((t) => [t.group, t.calls]).sort()).toEqual([[keyId, 3], [otherKeyId, 1]].sort());
    expect((await totals('hour')).map((t) => [t.group, t.calls])).toEqual([['2026-11-20T10:00:00Z', 3], ['2026-11-20T11:00:00Z', 1]]);
  });

  it('keeps each subject in a bucket of its own and counts calls without a subject for their key', async () => {
    const alice = 'sso:https://idp.example#alice';
    await aggregator().apply([event({ subject: alice }), event({ subject: alice }), event({ subject: 'sso:https://idp.example#bob' }), event()]);
    expect(await db.prisma.usageRecord.count()).toBe(3);
    expect((await totals('subject')).map((t) => [t.group, t.calls])).toEqual([
      [`key:${keyId}`, 1],
      [alice, 2],
      ['sso:https://idp.example#bob', 1],
    ]);
    // The subject splits buckets, it does not change the other breakdowns.
    expect((await totals('plugin')).map((t) => [t.group, t.calls])).toEqual([['notes', 4]]);
  });

  it('prunes receipts past the retention and keeps recent ones', async () => {
    const recent = event();
    await aggregator().apply([event(), recent]);
    const [oldId] = (await db.prisma.usageEventReceipt.findMany()).map((r) => r.eventId).filter((id) => id !== recent.eventId);
    await db.prisma.usageEventReceipt.update({ where: { eventId: oldId }, data: { processedAt: new Date(Date.now() - (USAGE_RECEIPT_RETENTION_DAYS + 1) * 86_400_000) } });
    expect(await pruneUsageReceipts(db.prisma)).toBe(1);
    expect((await db.prisma.usageEventReceipt.findMany()).map((r) => r.eventId)).toEqual([recent.eventId]);
  });

  it("does not count another tenant's usage in a tenant's totals", async () => {
    const other = await db.prisma.tenant.create({ data: { slug: `o-${randomBytes(3).toString('hex')}`, name: 'Other' } });
    await aggregator().apply([event({ tenantId: other.id })]);
    expect(await totals()).toEqual([]);
  });
});

describe('InProcessUsageSink (embedded mode)', () => {
  beforeEach(clearUsage);

  it('writes recorded events through the aggregator without the caller waiting', async () => {
    const sink = new InProcessUsageSink(new UsageAggregator(db.prisma));
    for (let i = 0; i < 25; i++) sink.record(event());
    expect(sink.stats().buffered).toBe(25); // nothing written yet: record() returned at once
    await sink.flush();
    expect(sink.stats()).toEqual({ buffered: 0, delivered: 25, dropped: 0 });
    expect((await totals())[0].calls).toBe(25);
    await sink.close();
  });
});

describe('BullMQ pipeline: gateway sink → queue → API worker', () => {
  const queueName = `${USAGE_QUEUE_NAME}-${randomBytes(3).toString('hex')}`;
  let admin: Redis;
  let queue: Queue;

  beforeAll(async () => {
    admin = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
    queue = new Queue(queueName, { connection: admin, prefix: PREFIX });
  });

  afterAll(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    admin.disconnect();
  });

  beforeEach(clearUsage);

  it('counts every call once although its batch is queued again and its events come again in another batch, to two concurrent workers', async () => {
    const aggregator = new UsageAggregator(db.prisma);
    const workers = [0, 1].map(() => createUsageWorker({ redisUrl: testRedisUrl(), aggregator, queueName, prefix: PREFIX, concurrency: 4 }));
    const sink = new BullMqUsageSink({ redisUrl: testRedisUrl(), queueName, prefix: PREFIX });
    try {
      const events = Array.from({ length: 30 }, (_, i) => event({ outcome: i < 3 ? 'error' : 'ok' }));
      const done = eventsHandled(workers, 90);
      const firstBatch = eventsHandled(workers, 30);
      for (const e of events) sink.record(e);
      await firstBatch;
      for (const e of [...events].reverse()) sink.record(e); // the same events again, in another batch
      // The same batch re-added under a job id of its own, e.g. a resend after a lost reply.
      await queue.add(USAGE_JOB_NAME, { events }, { jobId: `again-${randomBytes(3).toString('hex')}` });
      await done;
      expect(await totals()).toEqual([{ group: 'notes', calls: 30, errors: 3, totalDurationMs: 360, bytesIn: 3000, bytesOut: 30000 }]);
      expect(sink.stats()).toMatchObject({ buffered: 0, delivered: 60, dropped: 0 });
      const key = await db.prisma.apiKey.findUniqueOrThrow({ where: { id: keyId } });
      expect(key.lastUsedAt).not.toBeNull();
    } finally {
      await sink.close();
      await Promise.all(workers.map((w) => w.close()));
    }
  });

  it('carries the subject from the gateway sink through the queue into its own bucket', async () => {
    const worker = createUsageWorker({ redisUrl: testRedisUrl(), aggregator: new UsageAggregator(db.prisma), queueName, prefix: PREFIX });
    const sink = new BullMqUsageSink({ redisUrl: testRedisUrl(), queueName, prefix: PREFIX });
    try {
      const done = eventsHandled([worker], 3);
      for (const subject of ['person-1', 'person-1', 'person-2']) sink.record(event({ subject }));
      await done;
      expect((await totals('subject')).map((t) => [t.group, t.calls])).toEqual([['person-1', 2], ['person-2', 1]]);
    } finally {
      await sink.close();
      await worker.close();
    }
  });

  it('counts single-event jobs queued by a gateway from before batching, once with a batch of the same events', async () => {
    const worker = createUsageWorker({ redisUrl: testRedisUrl(), aggregator: new UsageAggregator(db.prisma), queueName, prefix: PREFIX });
    try {
      const events = Array.from({ length: 3 }, () => event());
      const done = eventsHandled([worker], 6);
      await queue.addBulk(events.map((e) => ({ name: 'usage-event', data: e, opts: { jobId: e.eventId } })));
      await queue.add(USAGE_JOB_NAME, { events });
      await done;
      expect((await totals())[0].calls).toBe(3);
    } finally {
      await worker.close();
    }
  });

  it('delivers events recorded while its Redis connection is being re-established', async () => {
    const worker = createUsageWorker({ redisUrl: testRedisUrl(), aggregator: new UsageAggregator(db.prisma), queueName, prefix: PREFIX });
    const connectionName = `${PREFIX}-sink`;
    const sink = new BullMqUsageSink({ redisUrl: testRedisUrl(), queueName, prefix: PREFIX, connectionName });
    try {
      const first = eventsHandled([worker], 1);
      sink.record(event());
      await first; // the sink's connection is up and has delivered
      const clients = String(await admin.client('LIST')).split('\n').filter((line) => line.includes(` name=${connectionName} `));
      expect(clients).toHaveLength(1);
      const rest = eventsHandled([worker], 9);
      await admin.client('KILL', 'ID', /id=(\d+)/.exec(clients[0])![1]);
      for (let i = 0; i < 9; i++) sink.record(event());
      await rest;
      expect((await totals())[0].calls).toBe(10);
      expect(sink.stats()).toMatchObject({ buffered: 0, delivered: 10, dropped: 0 });
    } finally {
      await sink.close();
      await worker.close();
    }
  });

  it('keeps a batch that failed every retry visible in the failed list, with its events, and counts it', async () => {
    // A database whose usage table is gone: every attempt fails for real.
    const broken = await createMigratedDatabase('metering_broken');
    await broken.db.prisma.$executeRawUnsafe('DROP TABLE usage_records');
    const attempts = 3;
    const worker = createUsageWorker({ redisUrl: testRedisUrl(), aggregator: new UsageAggregator(broken.db.prisma), queueName, prefix: PREFIX });
    const sink = new BullMqUsageSink({ redisUrl: testRedisUrl(), queueName, prefix: PREFIX, jobOptions: { attempts, backoff: { type: 'exponential', delay: 10 } } });
    try {
      const doomed = [event(), event()];
      const failedForGood = new Promise<string>((resolve) =>
        worker.worker.on('failed', (job) => job?.attemptsMade === attempts && resolve(String(job.id))),
      );
      for (const e of doomed) sink.record(e);
      const jobId = await failedForGood;
      const failed = await failedUsageJobs(queue, 10);
      expect(failed).toEqual([
        expect.objectContaining({ id: jobId, attemptsMade: attempts, failedReason: expect.stringMatching(/usage_records/), events: doomed }),
      ]);
      expect((await usageQueueStats(queue)).failed).toBe(1);
    } finally {
      await sink.close();
      await worker.close();
      await broken.close();
    }
  });

  it('counts the good events of a batch with a bad entry, then fails the job at once without showing the bad entry', async () => {
    const worker = createUsageWorker({ redisUrl: testRedisUrl(), aggregator: new UsageAggregator(db.prisma), queueName, prefix: PREFIX });
    try {
      const good = event();
      const failedAtOnce = new Promise<string>((resolve) => worker.worker.on('failed', (job) => resolve(String(job?.id))));
      const job = await queue.add(USAGE_JOB_NAME, { events: [good, { ...event(), tenantId: 'not-a-uuid', secret: 'must-not-be-listed' }] });
      expect(await failedAtOnce).toBe(job.id);
      expect((await totals())[0].calls).toBe(1);
      const [listed] = (await failedUsageJobs(queue, 10)).filter((f) => f.id === job.id);
      expect(listed).toMatchObject({ attemptsMade: 1, failedReason: expect.stringMatching(/^Not a usage event: 1 of 2 entries \(entry 1: /), events: [good] });
      expect(JSON.stringify(listed)).not.toContain('must-not-be-listed');
    } finally {
      await worker.close();
    }
  });
});

describe('BullMqUsageSink batching', () => {
  const queueName = `${USAGE_QUEUE_NAME}-${randomBytes(3).toString('hex')}`;
  let admin: Redis;
  let queue: Queue;
  const turn = () => new Promise((resolve) => setImmediate(resolve));
  const queuedBatches = async () =>
    (await queue.getWaiting()).sort((a, b) => Number(a.id) - Number(b.id)).map((job) => (job.data as { events: UsageEvent[] }).events.length);
  /** Eventually-style: polled until true, with no time limit of its own beyond the test's. */
  const until = async (condition: () => boolean | Promise<boolean>) => {
    while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 20));
  };

  beforeAll(async () => {
    admin = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
    queue = new Queue(queueName, { connection: admin, prefix: PREFIX });
  });

  afterEach(async () => queue.drain());

  afterAll(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    admin.disconnect();
  });

  it('gathers events recorded one per event-loop turn into one job while they linger', async () => {
    // A linger no test run reaches: only the flush sends.
    const sink = new BullMqUsageSink({ redisUrl: testRedisUrl(), queueName, prefix: PREFIX, flushIntervalMs: 600_000 });
    try {
      sink.record(event());
      await until(() => sink.stats().delivered === 1); // the connection is up and sent what gathered before it
      for (let i = 0; i < 20; i++) {
        sink.record(event());
        await turn();
      }
      expect(sink.stats()).toMatchObject({ buffered: 20, delivered: 1 });
      await sink.flush();
      expect(await queuedBatches()).toEqual([1, 20]);
    } finally {
      await sink.close();
    }
  });

  it('hands over what lingers at once when it closes', async () => {
    const sink = new BullMqUsageSink({ redisUrl: testRedisUrl(), queueName, prefix: PREFIX, flushIntervalMs: 600_000 });
    sink.record(event());
    await until(() => sink.stats().delivered === 1);
    for (let i = 0; i < 7; i++) sink.record(event());
    await sink.close();
    expect(sink.stats()).toEqual({ buffered: 0, delivered: 8, dropped: 0 });
    expect(await queuedBatches()).toEqual([1, 7]);
  });

  it('sends with the default linger without being flushed', async () => {
    const sink = new BullMqUsageSink({ redisUrl: testRedisUrl(), queueName, prefix: PREFIX });
    try {
      sink.record(event());
      await until(() => sink.stats().delivered === 1);
      for (let i = 0; i < 5; i++) {
        sink.record(event());
        await turn();
      }
      await until(async () => (await queue.getWaitingCount()) === 2);
      expect(await queuedBatches()).toEqual([1, 5]);
      expect(sink.stats()).toMatchObject({ buffered: 0, delivered: 6 });
    } finally {
      await sink.close();
    }
  });

  it('refuses a negative linger, naming the option', () => {
    expect(() => new BullMqUsageSink({ redisUrl: testRedisUrl(), queueName, flushIntervalMs: -1 })).toThrow(/flushIntervalMs/);
  });
});

describe('BullMqUsageSink when Redis is unreachable', () => {
  it('returns at once, buffers up to its bound, and counts what it drops', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));

    const sink = new BullMqUsageSink({ redisUrl: `redis://127.0.0.1:${port}`, maxBuffered: 3 });
    // record() is synchronous (it returns nothing to await), so it cannot wait for Redis.
    for (let i = 0; i < 5; i++) expect(sink.record(event({ eventId: randomUUID() }))).toBeUndefined();
    expect(sink.stats()).toEqual({ buffered: 3, delivered: 0, dropped: 2 });
    await sink.close();
    expect(sink.stats()).toEqual({ buffered: 0, delivered: 0, dropped: 5 });
  });
});

describe('the usage worker when Redis goes away at shutdown', () => {
  it('closes even while its connections are reconnecting (BullMQ\'s close alone waits for ever)', async () => {
    const relay = await startTcpProxy(testRedisUrl());
    const fixture = path.resolve(__dirname, '../../../dist/libs/metering/test/close-worker.fixture.js');
    const child = spawn(process.execPath, [fixture, relay.url, `${PREFIX}-shutdown`, PREFIX], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout! });
    const line = (wanted: string) => new Promise<void>((resolve) => lines.on('line', (text) => text === wanted && resolve()));
    try {
      await line('running');
      await relay.cut();
      const closed = line('closed');
      child.stdin!.write('close\n');
      await closed;
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await relay.close();
    }
  }, 25_000);
});
