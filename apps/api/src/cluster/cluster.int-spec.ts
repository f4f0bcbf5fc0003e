import { randomBytes } from 'node:crypto';
import { ClusterKeys, encodeSessionEntry, RedisControlBus, type ControlEvent, type SessionEntry } from '@switchboard/coordination';
import { testRedisUrl } from '@switchboard/testing';
import { Redis } from 'ioredis';
import { startTestApi, type TestApi } from '../testing/api-test-harness';

// The registry is written by gateway nodes (apps/gateway/src/cluster/cluster-session-registry.ts,
// tested end to end there); here three nodes are written in the same layout, through the same
// shared encoder and ClusterKeys names: a liveness key with a TTL, the node set, a hash of sessions.
const PREFIX = `sbtest-api-cluster-${randomBytes(3).toString('hex')}`;
const keys = new ClusterKeys(PREFIX);
const NODE_TTL_MS = 60_000;

describe('cluster API: nodes and live sessions of every tenant, for platform admins (registry in Redis)', () => {
  let t: TestApi;
  let redis: Redis;
  let bus: RedisControlBus;
  let acme: { id: string };
  let globex: { id: string };

  const entry = (tenant: { id: string }, tenantSlug: string, sessionId: string, node: string, openedAt: string, extra: Partial<SessionEntry> = {}): SessionEntry => ({
    sessionId,
    node,
    tenantId: tenant.id,
    tenantSlug,
    keyId: 'key-1',
    transport: 'streamable-http',
    openedAt: Date.parse(openedAt),
    lastActivityAt: Date.parse(openedAt) + 60_000,
    ...extra,
  });
  const register = async (node: string, alive: boolean, entries: SessionEntry[]) => {
    const tx = redis.multi().sadd(keys.nodes(), node);
    if (alive) tx.set(keys.nodeAlive(node), '1', 'PX', NODE_TTL_MS);
    for (const item of entries) tx.hset(keys.nodeSessions(node), item.sessionId, encodeSessionEntry(item));
    await tx.exec();
  };
  const A1 = 'aaaaaaaa-0000-4000-8000-000000000001.gw-a';
  const A2 = 'aaaaaaaa-0000-4000-8000-000000000002';
  const G1 = 'bbbbbbbb-0000-4000-8000-000000000003.gw-a';
  const C1 = 'cccccccc-0000-4000-8000-000000000004.gw-c';

  beforeAll(async () => {
    t = await startTestApi('cluster_api', { REDIS_PREFIX: PREFIX }, { redis: true });
    redis = new Redis(testRedisUrl());
    bus = new RedisControlBus({ redisUrl: testRedisUrl(), secret: t.cluster!.secret, nodeId: 'gw-test', channel: t.cluster!.controlChannel });
    await bus.ready();
    acme = (await t.request('POST', '/v1/tenants', { token: t.platformToken, body: { slug: 'acme', name: 'Acme' } })).body;
    globex = (await t.request('POST', '/v1/tenants', { token: t.platformToken, body: { slug: 'globex', name: 'Globex' } })).body;
    await register('gw-a', true, [entry(acme, 'acme', A1, 'gw-a', '2026-01-01T10:00:00Z'), entry(globex, 'globex', G1, 'gw-a', '2026-01-01T11:00:00Z')]);
    await register('gw-b', true, [entry(acme, 'acme', A2, 'gw-b', '2026-01-01T09:00:00Z', { transport: 'sse', plugin: 'weather' })]);
    // Silent: it missed its heartbeats, its hash has not expired yet.
    await register('gw-c', false, [entry(globex, 'globex', C1, 'gw-c', '2026-01-01T12:00:00Z')]);
    // Gone: still in the set, nothing left of it.
    await register('gw-gone', false, []);
  });

  afterAll(async () => {
    await bus.close();
    const leftovers = await redis.keys(`${PREFIX}:*`);
    if (leftovers.length > 0) await redis.del(...leftovers);
    redis.disconnect();
    await t.close();
  });

  it('lists the nodes with their health and sessions, not a node that is gone', async () => {
    const res = await t.request('GET', '/v1/cluster/nodes', { token: t.platformToken });
    expect(res.status).toBe(200);
    expect(res.body.mode).toBe('cluster');
    expect(res.body.items).toEqual([
      { node: 'gw-a', health: 'up', heartbeatExpiresInMs: expect.any(Number), sessions: 2, sessionsByTransport: { 'streamable-http': 2, sse: 0 }, tenants: 2 },
      { node: 'gw-b', health: 'up', heartbeatExpiresInMs: expect.any(Number), sessions: 1, sessionsByTransport: { 'streamable-http': 0, sse: 1 }, tenants: 1 },
      { node: 'gw-c', health: 'silent', heartbeatExpiresInMs: null, sessions: 1, sessionsByTransport: { 'streamable-http': 1, sse: 0 }, tenants: 1 },
    ]);
    expect(res.body.items[0].heartbeatExpiresInMs).toBeGreaterThan(0);
    expect(res.body.items[0].heartbeatExpiresInMs).toBeLessThanOrEqual(NODE_TTL_MS);
  });

  it('lists every tenant\'s sessions oldest first, page by page, and by node', async () => {
    const first = await t.request('GET', '/v1/cluster/sessions?limit=2', { token: t.platformToken });
    expect(first.status).toBe(200);
    expect(first.body.total).toBe(4);
    expect(first.body.items).toEqual([
      { sessionId: A2, node: 'gw-b', transport: 'sse', keyId: 'key-1', plugin: 'weather', tenantId: acme.id, tenantSlug: 'acme', openedAt: '2026-01-01T09:00:00.000Z', lastActivityAt: '2026-01-01T09:01:00.000Z' },
      { sessionId: A1, node: 'gw-a', transport: 'streamable-http', keyId: 'key-1', tenantId: acme.id, tenantSlug: 'acme', openedAt: '2026-01-01T10:00:00.000Z', lastActivityAt: '2026-01-01T10:01:00.000Z' },
    ]);
    const second = await t.request('GET', `/v1/cluster/sessions?limit=2&cursor=${first.body.nextCursor}`, { token: t.platformToken });
    expect(second.body.items.map((item: { sessionId: string; tenantSlug: string }) => [item.sessionId, item.tenantSlug])).toEqual([
      [G1, 'globex'],
      [C1, 'globex'],
    ]);
    expect(second.body.nextCursor).toBeNull();
    const byNode = await t.request('GET', '/v1/cluster/sessions?node=gw-a', { token: t.platformToken });
    expect(byNode.body.items.map((item: { sessionId: string }) => item.sessionId)).toEqual([A1, G1]);
    expect(byNode.body.total).toBe(2);
  });

  it('refuses a forged cursor, a bad limit, a bad node and an unknown parameter, naming the field', async () => {
    const forged = Buffer.from(JSON.stringify({ o: 'x', s: 1 })).toString('base64url');
    for (const [query, path] of [[`cursor=${forged}`, 'cursor'], ['cursor=not-base64', 'cursor'], ['limit=0', 'limit'], ['node=a%20b', 'node'], ['tenant=acme', 'tenant']] as const) {
      const res = await t.request('GET', `/v1/cluster/sessions?${query}`, { token: t.platformToken });
      expect(res.status).toBe(400);
      expect(res.body.error.details.issues[0].path).toBe(path);
    }
  });

  it("ends any tenant's session through the control bus, audited in that tenant's log", async () => {
    const heard = new Promise<ControlEvent>((resolve) => {
      const off = bus.subscribe((event) => {
        if (event.type !== 'session.terminate') return;
        off();
        resolve(event);
      });
    });
    const res = await t.request('DELETE', `/v1/cluster/sessions/${G1}`, { token: t.platformToken });
    expect(res.status).toBe(204);
    await expect(heard).resolves.toEqual({ type: 'session.terminate', sessionId: G1 });
    const audit = await t.request('GET', '/v1/tenants/globex/audit?action=session.terminate', { token: t.platformToken });
    expect(audit.body.items).toHaveLength(1);
    expect(audit.body.items[0]).toMatchObject({ targetType: 'session', targetId: G1, tenantId: globex.id, details: { node: 'gw-a' } });
    const missing = await t.request('DELETE', '/v1/cluster/sessions/no-such-session', { token: t.platformToken });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('SESSION_NOT_FOUND');
    expect((await t.request('DELETE', '/v1/cluster/sessions/bad%20id', { token: t.platformToken })).status).toBe(400);
  });

  it("refuses a tenant admin every cluster route, even for its own tenant's session, and publishes nothing", async () => {
    const published = jest.fn();
    const off = bus.subscribe(published);
    const token = t.tenantAdminToken(acme.id);
    for (const [method, path] of [
      ['GET', '/v1/cluster/nodes'],
      ['GET', '/v1/cluster/sessions'],
      ['GET', '/v1/cluster/sessions?node=gw-a'],
      ['DELETE', `/v1/cluster/sessions/${A1}`],
      ['DELETE', `/v1/cluster/sessions/${C1}`],
    ] as const) {
      const res = await t.request(method, path, { token });
      expect(res.status).toBe(403);
      expect(JSON.stringify(res.body)).not.toContain('globex');
    }
    expect((await t.request('GET', '/v1/cluster/nodes')).status).toBe(401);
    await new Promise((resolve) => setImmediate(resolve));
    off();
    expect(published).not.toHaveBeenCalled();
    expect(await redis.hexists(keys.nodeSessions('gw-c'), C1)).toBe(1);
  });

  it('documents the routes in the OpenAPI description', async () => {
    const paths = (await t.request('GET', '/openapi.json')).body.paths;
    expect(Object.keys(paths)).toEqual(expect.arrayContaining(['/v1/cluster/nodes', '/v1/cluster/sessions', '/v1/cluster/sessions/{sessionId}']));
    expect(paths['/v1/cluster/sessions'].get.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['limit', 'cursor', 'node']));
    expect(paths['/v1/cluster/sessions/{sessionId}'].delete).toBeDefined();
  });
});
