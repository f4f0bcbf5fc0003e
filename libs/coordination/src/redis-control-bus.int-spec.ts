import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { testRedisUrl } from '@switchboard/testing';
import type { ControlEvent } from './control-events';
import { RedisControlBus, type ControlBusStatus } from './redis-control-bus';
import { SignedEnvelopeCodec, type EnvelopeRejection } from './signed-envelope';

// Own channel and connection names, so parallel test files and other work on this Redis are untouched.
const RUN = randomBytes(4).toString('hex');
const CHANNEL = `sb:test:${RUN}:control`;
const secret = randomBytes(32);

/** The next event the bus delivers of the given type (a node also hears its own publishes). */
function nextEvent(bus: RedisControlBus, type?: ControlEvent['type']): Promise<ControlEvent> {
  return new Promise((resolve) => {
    const off = bus.subscribe((event) => {
      if (type && event.type !== type) return;
      off();
      resolve(event);
    });
  });
}

function statusWhere(bus: RedisControlBus, ready: boolean): Promise<ControlBusStatus> {
  return new Promise((resolve) => {
    const off = bus.onStatus((status) => {
      if (status.ready !== ready) return;
      off();
      resolve(status);
    });
  });
}

describe('RedisControlBus between two nodes', () => {
  let rejectionWaiter: ((reason: EnvelopeRejection) => void) | undefined;
  const makeBus = (node: string) =>
    new RedisControlBus({
      redisUrl: testRedisUrl(),
      secret,
      nodeId: node,
      channel: CHANNEL,
      redisOptions: { connectionName: `sbtest-${RUN}-${node}` },
      // Both nodes hear every message; only node b's verdicts are awaited and counted here.
      onRejected: (reason) => {
        if (node !== 'b') return;
        rejectionWaiter?.(reason);
      },
    });
  const nextRejection = () => new Promise<EnvelopeRejection>((resolve) => (rejectionWaiter = resolve));

  let nodeA: RedisControlBus;
  let nodeB: RedisControlBus;
  let attacker: Redis;

  beforeAll(async () => {
    nodeA = makeBus('a');
    nodeB = makeBus('b');
    attacker = new Redis(testRedisUrl());
    await Promise.all([nodeA.ready(), nodeB.ready()]);
  });

  afterAll(async () => {
    await Promise.all([nodeA.close(), nodeB.close()]);
    attacker.disconnect();
  });

  it('delivers an event published on one node to the other', async () => {
    const received = nextEvent(nodeB);
    await nodeA.publish({ type: 'api-key.revoked', tenantId: 't1', keyId: 'k1' });
    await expect(received).resolves.toEqual({ type: 'api-key.revoked', tenantId: 't1', keyId: 'k1' });
  });

  it('drops and counts a message forged without the cluster secret', async () => {
    const handler = jest.fn();
    const off = nodeB.subscribe(handler);
    const forger = new SignedEnvelopeCodec({ secret: randomBytes(32), nodeId: 'a' });
    const dropped = nextRejection();
    await attacker.publish(CHANNEL, forger.encode({ type: 'session.terminate', sessionId: 'victim' }));
    await expect(dropped).resolves.toBe('bad-signature');
    off();
    expect(handler).not.toHaveBeenCalled();
    expect(nodeB.rejected['bad-signature']).toBeGreaterThanOrEqual(1);
  });

  it('drops and counts a genuine message replayed by someone who captured it', async () => {
    const spy = new Redis(testRedisUrl());
    const captured = new Promise<string>((resolve) => spy.on('message', (_channel, raw: string) => resolve(raw)));
    await spy.subscribe(CHANNEL);
    const handler = jest.fn();
    const off = nodeB.subscribe(handler);
    const firstDelivery = nextEvent(nodeB);
    await nodeA.publish({ type: 'tenant.deleted', tenantId: 't9' });
    const raw = await captured;
    await firstDelivery;
    spy.disconnect();

    const dropped = nextRejection();
    await attacker.publish(CHANNEL, raw);
    await expect(dropped).resolves.toBe('replayed');
    off();
    expect(handler).toHaveBeenCalledTimes(1);
  });

  it('reconnects and re-subscribes by itself after its connections are killed', async () => {
    const admin = new Redis(testRedisUrl());
    try {
      const clients = String(await admin.client('LIST'))
        .split('\n')
        .filter((line) => line.includes(` name=sbtest-${RUN}-b `));
      expect(clients.length).toBe(2); // publisher + subscriber of node b
      expect(clients.some((line) => / flags=P /.test(line))).toBe(true);

      const down = statusWhere(nodeB, false);
      const up = statusWhere(nodeB, true);
      // In one pipeline, so no connection is back before the last one is killed.
      await admin.pipeline(clients.map((line) => ['client', 'KILL', 'ID', /id=(\d+)/.exec(line)![1]!])).exec();
      await down;
      expect(nodeB.status().ready).toBe(false);
      await up;

      const received = nextEvent(nodeB);
      await nodeA.publish({ type: 'plugins.changed', tenantId: 't2' });
      await expect(received).resolves.toEqual({ type: 'plugins.changed', tenantId: 't2' });
      // And node b can publish again on its own new connection.
      const receivedByA = nextEvent(nodeA, 'tenant.changed');
      await nodeB.publish({ type: 'tenant.changed', tenantId: 't3' });
      await expect(receivedByA).resolves.toEqual({ type: 'tenant.changed', tenantId: 't3' });
    } finally {
      admin.disconnect();
    }
  });
});
