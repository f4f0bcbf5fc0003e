import { randomUUID } from 'node:crypto';
import type { UsageAggregator } from './usage-aggregator';
import { InProcessUsageSink } from './in-process-usage-sink';
import { SharedUsageSink } from './shared-usage-sink';
import { createUsageEvent, type UsageEvent } from './usage-event';

/** An aggregator that remembers what it was given; the real one is tested against Postgres. */
function recordingAggregator(): { aggregator: UsageAggregator; applied: UsageEvent[] } {
  const applied: UsageEvent[] = [];
  const aggregator = { apply: async (events: UsageEvent[]) => (applied.push(...events), { applied: events.length, duplicates: 0 }) };
  return { aggregator: aggregator as unknown as UsageAggregator, applied };
}

const event = () =>
  createUsageEvent({ tenantId: randomUUID(), keyId: randomUUID(), plugin: 'echo', tool: 'echo', outcome: 'ok', durationMs: 1, bytesIn: 1, bytesOut: 1 });

describe('SharedUsageSink', () => {
  it('delivers nothing until an owner is attached, and nothing again after it is withdrawn', async () => {
    const shared = new SharedUsageSink();
    const { aggregator, applied } = recordingAggregator();
    const owner = new InProcessUsageSink(aggregator);
    shared.record(event());
    expect(shared.stats()).toEqual({ buffered: 0, delivered: 0, dropped: 1 });
    const withdraw = shared.attach(owner);
    const delivered = event();
    shared.record(delivered);
    await shared.flush();
    withdraw();
    shared.record(event());
    await owner.close();
    expect(applied).toEqual([delivered]);
    expect(shared.stats()).toEqual({ buffered: 0, delivered: 0, dropped: 2 });
  });

  it('hands events to the attached owner, and its close() flushes without closing the owner', async () => {
    const { aggregator, applied } = recordingAggregator();
    const owner = new InProcessUsageSink(aggregator);
    const shared = new SharedUsageSink();
    const withdraw = shared.attach(owner);
    try {
      const first = event();
      shared.record(first);
      await shared.close();
      expect(applied).toEqual([first]);
      const second = event();
      shared.record(second);
      await shared.flush();
      expect(applied).toEqual([first, second]);
      expect(shared.stats()).toEqual(owner.stats());
    } finally {
      withdraw();
      await owner.close();
    }
  });

  it('does not let an older owner withdraw a newer attachment', async () => {
    const shared = new SharedUsageSink();
    const newerAggregator = recordingAggregator();
    const olderOwner = new InProcessUsageSink(recordingAggregator().aggregator);
    const newerOwner = new InProcessUsageSink(newerAggregator.aggregator);
    const older = shared.attach(olderOwner);
    const newer = shared.attach(newerOwner);
    older();
    const delivered = event();
    shared.record(delivered);
    await shared.flush();
    expect(newerAggregator.applied).toEqual([delivered]);
    newer();
    shared.record(event());
    expect(shared.stats().dropped).toBe(1);
    await Promise.all([olderOwner.close(), newerOwner.close()]);
  });

  it('keeps sinks apart: an owner attached to one is not reached through another', async () => {
    const { aggregator, applied } = recordingAggregator();
    const owner = new InProcessUsageSink(aggregator);
    const mine = new SharedUsageSink();
    const other = new SharedUsageSink();
    const withdraw = mine.attach(owner);
    other.record(event());
    await other.flush();
    await owner.flush();
    expect(applied).toEqual([]);
    withdraw();
    await owner.close();
  });
});
