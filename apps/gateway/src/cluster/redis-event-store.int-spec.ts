import { randomBytes } from 'node:crypto';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { ClusterKeys } from '@switchboard/coordination';
import { createLogger } from '@switchboard/logger';
import { testRedisUrl } from '@switchboard/testing';
import { NodeLink } from './node-link';
import { RedisEventStore } from './redis-event-store';

const keys = new ClusterKeys(`sbtest-events-${randomBytes(3).toString('hex')}`);
const logger = createLogger({ name: 'test', level: 'silent' });
const notification = (n: number): JSONRPCMessage => ({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: n } });

async function replay(store: RedisEventStore, after: string): Promise<{ streamId: string; events: [string, JSONRPCMessage][] }> {
  const events: [string, JSONRPCMessage][] = [];
  const streamId = await store.replayEventsAfter(after, { send: async (id, message) => void events.push([id, message]) });
  return { streamId, events };
}

describe('RedisEventStore (resumable GET streams)', () => {
  let link: NodeLink;

  beforeAll(async () => {
    link = new NodeLink({ redisUrl: testRedisUrl(), secret: randomBytes(32), nodeId: 'events-test', keys, logger });
    await link.whenReady();
  });

  afterAll(async () => {
    const leftovers = await link.redis.keys(`${keys.prefix}:*`);
    if (leftovers.length > 0) await link.redis.del(...leftovers);
    await link.close();
  });

  it('replays the GET stream events after the last one the client saw, with expiry set', async () => {
    const store = new RedisEventStore(link, keys, 'session-1');
    const ids = [];
    for (let n = 1; n <= 3; n++) ids.push(await store.storeEvent('_GET_stream', notification(n)));
    const { streamId, events } = await replay(store, ids[0]!);
    expect(streamId).toBe('_GET_stream');
    expect(events).toEqual([
      [ids[1], notification(2)],
      [ids[2], notification(3)],
    ]);
    expect(await link.redis.pttl(keys.sessionEvents('session-1'))).toBeGreaterThan(0);
  });

  it('keeps nothing for POST response streams, whose events still get ids naming their stream', async () => {
    const store = new RedisEventStore(link, keys, 'session-2');
    const id = await store.storeEvent('post-stream-1', notification(1));
    expect(await store.getStreamIdForEventId(id)).toBe('post-stream-1');
    expect(await replay(store, id)).toEqual({ streamId: 'post-stream-1', events: [] });
    expect(await link.redis.exists(keys.sessionEvents('session-2'))).toBe(0);
  });

  it('still hands out ids while Redis is away, so the live stream keeps flowing', async () => {
    const unreachable = new NodeLink({ redisUrl: 'redis://127.0.0.1:1', secret: randomBytes(32), nodeId: 'events-down', keys, logger });
    try {
      const store = new RedisEventStore(unreachable, keys, 'session-3');
      const id = await store.storeEvent('_GET_stream', notification(1));
      expect(await store.getStreamIdForEventId(id)).toBe('_GET_stream');
      // Resuming from such an id replays nothing rather than failing.
      expect(await replay(store, id)).toEqual({ streamId: '_GET_stream', events: [] });
    } finally {
      await unreachable.close();
    }
  });
});
