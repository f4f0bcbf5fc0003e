import { randomUUID } from 'node:crypto';
import { createUsageEvent, InProcessUsageSink, type UsageAggregator, type UsageEvent } from '@switchboard/metering';
import { createEmbeddedHub } from './embedded-hub';

const event = () =>
  createUsageEvent({ tenantId: randomUUID(), keyId: randomUUID(), plugin: 'echo', tool: 'echo', outcome: 'ok', durationMs: 1, bytesIn: 1, bytesOut: 1 });

describe('createEmbeddedHub', () => {
  it('connects what one app hands in with what the other reads, and nothing across two hubs', async () => {
    const hub = createEmbeddedHub();
    const other = createEmbeddedHub();
    const heard: unknown[] = [];
    const heardElsewhere: unknown[] = [];
    hub.controlBus.subscribe((e) => heard.push(e));
    other.controlBus.subscribe((e) => heardElsewhere.push(e));
    await hub.controlBus.publish({ type: 'tenant.changed', tenantId: 't1' });
    expect(heard).toEqual([{ type: 'tenant.changed', tenantId: 't1' }]);
    expect(heardElsewhere).toEqual([]);

    const applied: UsageEvent[] = [];
    const aggregator = { apply: async (events: UsageEvent[]) => (applied.push(...events), { applied: events.length, duplicates: 0 }) };
    const owner = new InProcessUsageSink(aggregator as unknown as UsageAggregator);
    const withdraw = hub.usage.attach(owner);
    const recorded = event();
    hub.usage.record(recorded);
    other.usage.record(event());
    await hub.usage.flush();
    expect(applied).toEqual([recorded]);
    withdraw();
    await owner.close();

    const entry = { sessionId: 's1', node: 'n1', tenantId: 't1', keyId: 'k1', transport: 'sse' as const, tenantSlug: 'acme', openedAt: 1, lastActivityAt: 1 };
    const detach = hub.sessions.attach({ listTenant: async () => [entry], find: async () => entry });
    expect(await hub.sessions.listTenant('t1')).toEqual([entry]);
    expect(await other.sessions.listTenant('t1')).toEqual([]);
    detach();

    await Promise.all([hub.close(), other.close()]);
  });
});
