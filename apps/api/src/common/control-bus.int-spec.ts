import { RedisControlBus, type ControlEvent } from '@switchboard/coordination';
import { eventually, testRedisUrl, startTcpProxy, type TcpProxy } from '@switchboard/testing';
import { startTestApi, type TestApi } from '../testing/api-test-harness';

/** Issue 4: revocations reach every node within a second. */
const REVOCATION_DEADLINE_MS = 1_000;
/** How long the API may take to reconnect to Redis after it returns; ioredis backs off up to 2 s between attempts. */
const RECONNECT_TIMEOUT_MS = 20_000;

describe('the admin API in cluster mode (REDIS_URL)', () => {
  let proxy: TcpProxy;
  let t: TestApi;
  let gateway: RedisControlBus;

  beforeAll(async () => {
    // Through a proxy, so one test can take Redis away from this API alone.
    proxy = await startTcpProxy(testRedisUrl());
    t = await startTestApi('control_bus', {}, { redis: { url: proxy.url } });
    // Stands in for a gateway node: its own connections, the same secret and channel.
    gateway = new RedisControlBus({ redisUrl: testRedisUrl(), secret: t.cluster!.secret, nodeId: 'gw-test', channel: t.cluster!.controlChannel });
    await gateway.ready();
    await t.request('POST', '/v1/tenants', { token: t.platformToken, body: { slug: 'acme', name: 'Acme' } });
  });
  afterAll(async () => {
    await gateway.close();
    await t.close();
    await proxy.close();
  });

  it('publishes a key revocation that a gateway node receives within one second', async () => {
    const issued = await t.request('POST', '/v1/tenants/acme/api-keys', { token: t.platformToken, body: { name: 'doomed' } });
    const { id: keyId, tenantId } = issued.body.key;
    const received = new Promise<ControlEvent>((resolve) => {
      const stop = gateway.subscribe((event) => {
        if (event.type === 'api-key.revoked' && event.keyId === keyId) {
          stop();
          resolve(event);
        }
      });
    });
    const revoked = await t.request('POST', `/v1/tenants/acme/api-keys/${keyId}/revoke`, { token: t.platformToken });
    expect(revoked.status).toBe(200);
    // Counted from the answer: the API publishes after its commit, before it answers.
    let deadline: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => (deadline = setTimeout(() => reject(new Error('no revocation within 1 s')), REVOCATION_DEADLINE_MS)));
    try {
      expect(await Promise.race([received, late])).toEqual({ type: 'api-key.revoked', tenantId, keyId });
    } finally {
      clearTimeout(deadline);
    }
  });

  it('reports ready with Redis, degraded (still 200) without it, and ready again once it returns', async () => {
    expect(await t.request('GET', '/readyz')).toMatchObject({ status: 200, body: { status: 'ready' } });
    await proxy.cut();
    const degraded = await t.request('GET', '/readyz');
    expect(degraded).toMatchObject({ status: 200, body: { status: 'degraded', degraded: ['redis'] } });
    // Admin work goes on; the revocation reaches gateways late, through their cache expiry.
    expect((await t.request('POST', '/v1/tenants', { token: t.platformToken, body: { slug: 'while-down', name: 'W' } })).status).toBe(201);
    await proxy.restore();
    await untilReady(t);
    expect((await t.request('GET', '/readyz')).body).toEqual({ status: 'ready' });
  });
});

/** Resolves once /readyz says ready; ioredis reconnects with its own backoff, so there is no event to await from here. */
async function untilReady(t: TestApi): Promise<void> {
  await eventually(async () => (await t.request('GET', '/readyz')).body.status === 'ready', RECONNECT_TIMEOUT_MS);
}
