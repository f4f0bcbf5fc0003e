import { randomBytes } from 'node:crypto';
import { ClusterKeys, encodeSessionEntry, RedisControlBus, type ControlEvent, type SessionEntry } from '@switchboard/coordination';
import { testRedisUrl } from '@switchboard/testing';
import { Redis } from 'ioredis';
import { startTestApi, type TestApi } from '../testing/api-test-harness';

// The registry is written by gateway nodes (apps/gateway/src/cluster, tested end to end there);
// here entries are written in the same layout, through the same shared encoder, as two nodes would.
const PREFIX = `sbtest-api-sessions-${randomBytes(3).toString('hex')}`;
const keys = new ClusterKeys(PREFIX);

describe('sessions API in cluster mode (registry in Redis)', () => {
  let t: TestApi;
  let redis: Redis;
  let bus: RedisControlBus;
  let acme: { id: string };
  let globex: { id: string };

  const register = async (entry: SessionEntry) => {
    await redis.multi().sadd(keys.nodes(), entry.node).hset(keys.nodeSessions(entry.node), entry.sessionId, encodeSessionEntry(entry)).exec();
  };
  const entry = (tenantId: string, sessionId: string, node: string, extra: Partial<SessionEntry> = {}): SessionEntry => ({
    sessionId,
    node,
    tenantId,
    keyId: 'key-1',
    transport: 'streamable-http',
    tenantSlug: 'acme',
    openedAt: Date.parse('2026-01-01T10:00:00Z'),
    lastActivityAt: Date.parse('2026-01-01T10:05:00Z'),
    ...extra,
  });

  beforeAll(async () => {
    t = await startTestApi('sessions_api', { REDIS_PREFIX: PREFIX }, { redis: true });
    redis = new Redis(testRedisUrl());
    bus = new RedisControlBus({ redisUrl: testRedisUrl(), secret: t.cluster!.secret, nodeId: 'gw-test', channel: t.cluster!.controlChannel });
    await bus.ready();
    acme = (await t.request('POST', '/v1/tenants', { token: t.platformToken, body: { slug: 'acme', name: 'Acme' } })).body;
    globex = (await t.request('POST', '/v1/tenants', { token: t.platformToken, body: { slug: 'globex', name: 'Globex' } })).body;
    await register(entry(acme.id, 'aaaaaaaa-0000-4000-8000-000000000001.gw-a', 'gw-a'));
    await register(entry(acme.id, 'aaaaaaaa-0000-4000-8000-000000000002', 'gw-b', { transport: 'sse', plugin: 'weather', openedAt: Date.parse('2026-01-01T09:00:00Z') }));
    await register(entry(globex.id, 'bbbbbbbb-0000-4000-8000-000000000003.gw-a', 'gw-a', { tenantSlug: 'globex' }));
  });

  afterAll(async () => {
    await bus.close();
    const leftovers = await redis.keys(`${PREFIX}:*`);
    if (leftovers.length > 0) await redis.del(...leftovers);
    redis.disconnect();
    await t.close();
  });

  it("lists a tenant's live sessions across every node, oldest first, and none of another tenant", async () => {
    const res = await t.request('GET', '/v1/tenants/acme/sessions', { token: t.tenantAdminToken(acme.id) });
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual([
      {
        sessionId: 'aaaaaaaa-0000-4000-8000-000000000002',
        node: 'gw-b',
        transport: 'sse',
        keyId: 'key-1',
        plugin: 'weather',
        openedAt: '2026-01-01T09:00:00.000Z',
        lastActivityAt: '2026-01-01T10:05:00.000Z',
      },
      {
        sessionId: 'aaaaaaaa-0000-4000-8000-000000000001.gw-a',
        node: 'gw-a',
        transport: 'streamable-http',
        keyId: 'key-1',
        openedAt: '2026-01-01T10:00:00.000Z',
        lastActivityAt: '2026-01-01T10:05:00.000Z',
      },
    ]);
  });

  it("does not list another tenant's sessions to its admin", async () => {
    const res = await t.request('GET', '/v1/tenants/globex/sessions', { token: t.tenantAdminToken(acme.id) });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('TENANT_NOT_FOUND');
  });

  it('terminates a session through the control bus, recorded in the audit log', async () => {
    const sessionId = 'aaaaaaaa-0000-4000-8000-000000000001.gw-a';
    const heard = new Promise<ControlEvent>((resolve) => {
      const off = bus.subscribe((event) => {
        if (event.type !== 'session.terminate') return;
        off();
        resolve(event);
      });
    });
    const res = await t.request('DELETE', `/v1/tenants/acme/sessions/${sessionId}`, { token: t.tenantAdminToken(acme.id) });
    expect(res.status).toBe(204);
    await expect(heard).resolves.toEqual({ type: 'session.terminate', sessionId });
    const audit = await t.request('GET', '/v1/tenants/acme/audit', { token: t.platformToken });
    expect(audit.body.items[0]).toMatchObject({ action: 'session.terminate', targetType: 'session', targetId: sessionId, details: { node: 'gw-a' } });
  });

  it("answers 404 for another tenant's session, and publishes nothing", async () => {
    const published = jest.fn();
    const off = bus.subscribe(published);
    const res = await t.request('DELETE', '/v1/tenants/acme/sessions/bbbbbbbb-0000-4000-8000-000000000003.gw-a', { token: t.tenantAdminToken(acme.id) });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('SESSION_NOT_FOUND');
    const missing = await t.request('DELETE', '/v1/tenants/acme/sessions/no-such-session', { token: t.tenantAdminToken(acme.id) });
    expect(missing.status).toBe(404);
    // The API publishes before it answers, and Redis queues an event to subscribers before replying
    // to the publisher: one more turn of the loop is enough for a stray event to show.
    await new Promise((resolve) => setImmediate(resolve));
    off();
    expect(published).not.toHaveBeenCalled();
  });

  it('refuses a malformed session id', async () => {
    const res = await t.request('DELETE', '/v1/tenants/acme/sessions/bad%20id', { token: t.tenantAdminToken(acme.id) });
    expect(res.status).toBe(400);
  });
});
