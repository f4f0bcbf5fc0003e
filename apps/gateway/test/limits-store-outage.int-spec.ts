import { randomBytes } from 'node:crypto';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { startTcpProxy, testRedisUrl, type TcpProxy } from '@switchboard/testing';
import { Redis } from 'ioredis';
import { connectClient, disconnect, LATCH_PLUGIN, startHarness, type GatewayHarness } from './gateway-harness';

const ping = { name: 'latch__ping', arguments: {} };

describe.each(['open', 'closed'] as const)('limits when Redis is unreachable, LIMITS_FAILURE_MODE=%s', (mode) => {
  let h: GatewayHarness;
  let proxy: TcpProxy;
  let client: Client;
  let token: string;
  const prefix = `sbtest-outage-${mode}-${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    proxy = await startTcpProxy(testRedisUrl());
    h = await startHarness(`gw_outage_${mode}`, {
      PLUGINS: LATCH_PLUGIN,
      REDIS_URL: proxy.url,
      CLUSTER_SECRET: randomBytes(32).toString('base64'),
      REDIS_PREFIX: prefix,
      LIMITS_FAILURE_MODE: mode,
    });
    const tenant = await h.createTenant('acme');
    await h.install(tenant.id, 'latch');
    token = (await h.issueKey(tenant.id)).token;
    client = await connectClient(h.gateway.url, '/t/acme', token, 'streamable-http');
    await client.callTool(ping);
    await proxy.cut();
  });
  afterAll(async () => {
    await disconnect(client).catch(() => undefined);
    await h.close();
    await proxy.close();
    const redis = new Redis(testRedisUrl());
    const leftovers = await redis.keys(`${prefix}:*`);
    if (leftovers.length > 0) await redis.del(...leftovers);
    redis.disconnect();
  });

  const storeErrors = async () => {
    const page = await (await fetch(h.gateway.metricsUrl!)).text();
    return Number(/^switchboard_limits_store_errors_total\{[^}]*\} (\d+)$/m.exec(page)?.[1] ?? 0);
  };

  if (mode === 'open') {
    it('keeps serving requests and tool calls, and counts every failed check', async () => {
      const before = await storeErrors();
      expect((await client.callTool(ping)).content).toEqual([{ type: 'text', text: 'pong ' }]);
      // The POST's request check, the call's per-minute check and its in-flight lease.
      expect(await storeErrors()).toBeGreaterThanOrEqual(before + 3);
    });
  } else {
    it('refuses requests with 503 and Retry-After instead of admitting them unchecked, and counts the failure', async () => {
      const before = await storeErrors();
      const error = await client.callTool(ping).then(
        () => new Error('the call was admitted'),
        (e: unknown) => e as Error,
      );
      expect(error.message).toMatch(/503|limits cannot be checked/i);
      const refused = await fetch(`${h.gateway.url}/t/acme/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
      });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(await storeErrors()).toBeGreaterThan(before);
    });
  }
});
