import { randomUUID } from 'node:crypto';
import type { UsageAggregator } from './usage-aggregator';
import { InProcessUsageSink } from './in-process-usage-sink';
import { registerInProcessUsageSink, sharedInProcessUsageSink } from './shared-usage-sink';
import { createUsageEvent, type UsageEvent } from './usage-event';

/** An aggregator that remembers what it was given; the real one is tested against Postgres. */
function recordingAggregator(): { aggregator: UsageAggregator; applied: UsageEvent[] } {
  const applied: UsageEvent[] = [];
  const aggregator = { apply: async (events: UsageEvent[]) => (applied.push(...events), { applied: events.length, duplicates: 0 }) };
  return { aggregator: aggregator as unknown as UsageAggregator, applied };
}

const event = () =>
  createUsageEvent({ tenantId: randomUUID(), keyId: randomUUID(), plugin: 'echo', tool: 'echo', outcome: 'ok', durationMs: 1, bytesIn: 1, bytesOut: 1 });

describe('sharedInProcessUsageSink', () => {
  it('is undefined until a sink is registered, and again after it is withdrawn', () => {
    expect(sharedInProcessUsageSink()).toBeUndefined();
    const withdraw = registerInProcessUsageSink(new InProcessUsageSink(recordingAggregator().aggregator));
    expect(sharedInProcessUsageSink()).toBeDefined();
    withdraw();
    expect(sharedInProcessUsageSink()).toBeUndefined();
  });

  it('hands events to the registered sink, and its close() flushes without closing the owner', async () => {
    const { aggregator, applied } = recordingAggregator();
    const owner = new InProcessUsageSink(aggregator);
    const withdraw = registerInProcessUsageSink(owner);
    try {
      const shared = sharedInProcessUsageSink()!;
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

  it('does not let an older owner withdraw a newer registration', () => {
    const older = registerInProcessUsageSink(new InProcessUsageSink(recordingAggregator().aggregator));
    const newer = registerInProcessUsageSink(new InProcessUsageSink(recordingAggregator().aggregator));
    older();
    expect(sharedInProcessUsageSink()).toBeDefined();
    newer();
    expect(sharedInProcessUsageSink()).toBeUndefined();
  });
});
