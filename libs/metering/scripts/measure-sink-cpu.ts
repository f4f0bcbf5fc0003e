/**
 * Producer-side CPU of BullMqUsageSink per event, against a local Redis (loopback only).
 *   npm run build && node dist/libs/metering/scripts/measure-sink-cpu.js [redis://127.0.0.1:6379] [events]
 * Three shapes of load: a burst (every event recorded in one loop, so batches fill up), paced
 * (16 events per event-loop turn, like 16 concurrent callers) and a trickle (one event per turn).
 * Jobs go to a queue of their own prefix, which is removed afterwards; no worker consumes them.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { BullMqUsageSink, USAGE_QUEUE_NAME } from '../src/bullmq-usage-sink';
import { createUsageEvent, type UsageEvent } from '../src/usage-event';

const PACED_EVENTS_PER_TURN = 16;
const WARM_UP_EVENTS = 5_000;

async function main(): Promise<void> {
  const redisUrl = process.argv[2] ?? 'redis://127.0.0.1:6379';
  const count = Number(process.argv[3] ?? 50_000);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(new URL(redisUrl).hostname)) throw new Error('loopback Redis only');
  const prefix = `sb-measure-${randomBytes(4).toString('hex')}`;
  const ids = { tenantId: randomUUID(), keyId: randomUUID() };
  const events = (n: number) =>
    Array.from({ length: n }, () => createUsageEvent({ ...ids, plugin: 'notes', tool: 'search', outcome: 'ok', durationMs: 12, bytesIn: 100, bytesOut: 1000 }));

  const sink = new BullMqUsageSink({ redisUrl, prefix, maxBuffered: count + WARM_UP_EVENTS });
  const delivered = async (target: number) => {
    while (sink.stats().delivered < target) {
      await sink.flush();
      await nextTurn();
    }
  };
  try {
    let target = 0;
    const run = async (label: string, batch: UsageEvent[], perTurn: number) => {
      target += batch.length;
      const start = process.cpuUsage();
      for (let i = 0; i < batch.length; i++) {
        sink.record(batch[i]);
        if ((i + 1) % perTurn === 0) await nextTurn();
      }
      await delivered(target);
      const used = process.cpuUsage(start);
      const perEvent = (used.user + used.system) / batch.length;
      if (label) console.log(`${label.padEnd(8)} ${batch.length} events: ${perEvent.toFixed(2)} µs CPU per event`);
    };
    await run('', events(WARM_UP_EVENTS), PACED_EVENTS_PER_TURN);
    await run('burst', events(count), count);
    await run('paced', events(count), PACED_EVENTS_PER_TURN);
    await run('trickle', events(count), 1);
    console.log(`stats ${JSON.stringify(sink.stats())}`);
  } finally {
    await sink.close();
    const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const queue = new Queue(USAGE_QUEUE_NAME, { connection, prefix });
    await queue.obliterate({ force: true });
    await queue.close();
    connection.disconnect();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
