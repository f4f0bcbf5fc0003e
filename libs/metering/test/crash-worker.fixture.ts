/**
 * Test fixture (redis-outage.int-spec.ts): a usage worker in a process of its own that the test
 * kills mid-job, as a crash would.
 *   node dist/libs/metering/test/crash-worker.fixture.js <redisUrl> <queueName> <prefix> <databaseUrl>
 * Writes each job's events to the database, prints "applied <count>" and then never finishes the
 * job: it stays active under this worker's lock until the process dies, after the commit and
 * before BullMQ hears of it (the worst moment for exactly-once).
 */
import { openDatabase } from '@switchboard/db';
import { UsageAggregator } from '../src/usage-aggregator';
import type { UsageEvent } from '../src/usage-event';
import { createUsageWorker } from '../src/usage-worker';

async function main(): Promise<void> {
  const [redisUrl, queueName, prefix, databaseUrl] = process.argv.slice(2);
  if (!redisUrl || !queueName || !prefix || !databaseUrl) {
    throw new Error('usage: crash-worker.fixture.js <redisUrl> <queueName> <prefix> <databaseUrl>');
  }
  const db = openDatabase({ url: databaseUrl, dataDir: '' });
  const real = new UsageAggregator(db.prisma);
  const aggregator = {
    async apply(events: UsageEvent[]) {
      const result = await real.apply(events);
      process.stdout.write(`applied ${result.applied}\n`);
      return new Promise<never>(() => undefined);
    },
  } as unknown as UsageAggregator;
  const worker = createUsageWorker({ redisUrl, queueName, prefix, aggregator });
  await worker.worker.waitUntilReady();
  process.stdout.write('running\n');
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
