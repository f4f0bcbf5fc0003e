import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { McpSession } from './mcp-session';
import { RequestTracker } from './request-tracker';

/** A session over a transport that records what it sends, watched by `tracker`; `unread` plays the stream's buffer. */
function fakeSession(tracker: RequestTracker, tenantId: string, unread = { bytes: 0 }) {
  const sent: JSONRPCMessage[] = [];
  const transport = { send: async (message: JSONRPCMessage) => void sent.push(message), start: async () => undefined, close: async () => undefined } as unknown as Transport;
  const stream = { get writableLength() { return unread.bytes; }, destroy: jest.fn() };
  const session = new McpSession(
    {
      id: `s-${Math.random()}`,
      transportKind: 'sse',
      binding: { tenantId, keyId: 'k', subject: undefined, plugins: [], tenantLimits: {}, keyLimits: {}, expiresAt: undefined },
      tenantSlug: tenantId,
      scope: { plugin: undefined, allowed: [], tools: [] },
      catalog: {} as never,
      stream: stream as never,
    },
    () => undefined,
  );
  session.transport = transport;
  session.watch(tracker);
  return { session, sent, stream };
}

const answer = (id: number) => ({ jsonrpc: '2.0' as const, id, result: {} });

describe('RequestTracker', () => {
  const slowReaders = jest.fn();
  const tracker = () => new RequestTracker({ maxInProgressPerTenant: 3, maxBufferedBytes: 100, onSlowReaderClosed: slowReaders });

  it('refuses an id already in progress on the session, and takes it again once answered', async () => {
    const t = tracker();
    const { session } = fakeSession(t, 'a');
    expect(t.admit(session, [1])).toBeUndefined();
    expect(t.admit(session, [1])).toMatchObject({ code: 'invalid_request', message: expect.stringContaining('already in progress') });
    await session.transport.send(answer(1));
    expect(t.admit(session, [1])).toBeUndefined();
  });

  it('counts stateless requests in the tenant’s share and the drain, beside the sessions’', async () => {
    const t = tracker();
    const { session } = fakeSession(t, 'a');
    expect(t.admit(session, [1])).toBeUndefined();
    expect(t.admitStateless('a')).toBeUndefined();
    expect(t.admitStateless('a')).toBeUndefined();
    expect(t.admitStateless('a')).toMatchObject({ code: 'tenant_busy' });
    expect(t.admitStateless('b')).toBeUndefined();
    expect(t.inProgress).toBe(4);
    t.statelessEnded('a');
    t.statelessEnded('b');
    expect(t.inProgressOf('a')).toBe(2);
    expect(t.inProgressOf('b')).toBe(0);
    await session.transport.send(answer(1));
    t.statelessEnded('a');
    expect(t.inProgress).toBe(0);
  });

  it('refuses a POST that repeats an id within itself', () => {
    const t = tracker();
    expect(t.admit(fakeSession(t, 'a').session, [5, 6, 5])).toMatchObject({ code: 'invalid_request' });
  });

  it('counts the node’s requests in progress for the drain', async () => {
    const t = tracker();
    const { session } = fakeSession(t, 'a');
    t.admit(session, [1, 2]);
    expect(t.inProgress).toBe(2);
    const drained = t.drained(60_000);
    await session.transport.send(answer(1));
    await session.transport.send(answer(2));
    await drained;
    expect(t.inProgress).toBe(0);
  });

  it('refuses a tenant past its share of the node, but not another tenant', () => {
    const t = tracker();
    const first = fakeSession(t, 'a').session;
    expect(t.admit(first, [1, 2])).toBeUndefined();
    expect(t.admit(fakeSession(t, 'a').session, [1, 2])).toMatchObject({ code: 'tenant_busy', headers: { 'retry-after': '1' } });
    expect(t.inProgressOf('a')).toBe(2);
    expect(t.admit(fakeSession(t, 'b').session, [1, 2, 3])).toBeUndefined();
  });

  it('gives the share back when requests are answered, cancelled, forgotten or their session ends', async () => {
    const t = tracker();
    const { session } = fakeSession(t, 'a');
    t.admit(session, [1, 2, 3]);
    await session.transport.send(answer(1));
    // The session hears the cancellation on its way to the SDK (which sends no answer then).
    session.transport.onmessage?.({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 2 } });
    expect(t.inProgressOf('a')).toBe(1);
    t.forget(session, [3]);
    expect(t.inProgressOf('a')).toBe(0);
    const other = fakeSession(t, 'a').session;
    t.admit(other, [7, 8]);
    await other.close();
    expect(t.inProgressOf('a')).toBe(0);
  });

  it('closes a session whose client leaves more unread bytes than allowed', async () => {
    const t = tracker();
    const unread = { bytes: 0 };
    const { session, stream } = fakeSession(t, 'a', unread);
    t.admit(session, [1, 2]);
    await session.transport.send(answer(1));
    expect(session.signal.aborted).toBe(false);
    unread.bytes = 101;
    await session.transport.send(answer(2));
    expect(stream.destroy).toHaveBeenCalled();
    expect(session.signal.aborted).toBe(true);
    expect(slowReaders).toHaveBeenCalledTimes(1);
  });
});
