/**
 * Test fixture (metering.int-spec.ts): a usage worker in a process of its own, so a worker that
 * cannot close shows as a process that never answers, not as handles left in the test runner.
 *   node dist/libs/metering/test/close-worker.fixture.js <redisUrl> <queueName> <prefix>
 * Prints "running" once the worker's blocking read runs; on any stdin input closes the worker,
 * prints "closed" and exits.
 */
import { eventually } from '@switchboard/testing';
import { UsageAggregator } from '../src/usage-aggregator';
import { createUsageWorker } from '../src/usage-worker';

const POLL_MS = 20;
/** Below the spec's own timeout, so a worker that never runs fails here with a message. */
const RUNNING_TIMEOUT_MS = 10_000;

async function main(): Promise<void> {
  const [redisUrl, queueName, prefix] = process.argv.slice(2);
  if (!redisUrl || !queueName || !prefix) throw new Error('usage: close-worker.fixture.js <redisUrl> <queueName> <prefix>');
  // The queue stays empty, so the aggregator (and a database) is never used.
  const worker = createUsageWorker({ redisUrl, queueName, prefix, aggregator: new UsageAggregator(undefined as never) });
  await worker.worker.waitUntilReady();
  // BullMQ sets isRunning() inside run() and emits no event for it.
  await eventually(() => worker.worker.isRunning(), RUNNING_TIMEOUT_MS, POLL_MS);
  process.stdout.write('running\n');
  process.stdin.once('data', () => {
    void worker.close().then(() => {
      process.stdout.write('closed\n');
      process.exit(0);
    });
  });
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
