import { randomBytes } from 'node:crypto';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { generateApiKey } from '@switchboard/api-keys';
import { InProcessControlBus } from '@switchboard/coordination';
import { keyIdOf, type KeyRing } from '@switchboard/secrets';
import { createMigratedDatabase, createTempDataDir, startTcpProxy, type TcpProxy } from '@switchboard/testing';
import { startGateway, type RunningGateway } from '../src/main';
import { TESTKIT_PLUGIN } from './gateway-harness';

const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});

/**
 * A real Postgres outage for this gateway only: it reaches its database through a TCP relay the
 * test cuts, while the test seeds and checks through a direct connection.
 */
describe('gateway during a database outage', () => {
  let database: Awaited<ReturnType<typeof createMigratedDatabase>>;
  let relay: TcpProxy;
  let gateway: RunningGateway;
  const dataDir = createTempDataDir('gw_db_outage');
  const bus = new InProcessControlBus();
  let token: string;
  let tenantId: string;

  beforeAll(async () => {
    database = await createMigratedDatabase('gw_db_outage');
    relay = await startTcpProxy(database.test.url);
    const pepper = randomBytes(32);
    const peppers: KeyRing = { current: { id: keyIdOf(pepper), key: pepper }, previous: [] };
    gateway = await startGateway({
      DATABASE_URL: relay.url,
      GATEWAY_PORT: '0',
      GATEWAY_METRICS_PORT: '0',
      DATA_DIR: dataDir.dir,
      SECRETS_KEY: randomBytes(32).toString('base64'),
      KEY_PEPPER: pepper.toString('base64'),
      LOG_LEVEL: 'silent',
      PLUGINS: TESTKIT_PLUGIN,
    }, { bus });
    const prisma = database.db.prisma;
    const tenant = await prisma.tenant.create({ data: { slug: 'acme', name: 'Acme' } });
    await prisma.pluginInstallation.create({ data: { tenantId: tenant.id, plugin: 'echo', config: {} } });
    const key = generateApiKey(peppers);
    await prisma.apiKey.create({
      data: { tenantId: tenant.id, name: 'k', publicId: key.publicId, secretHash: key.secretHash, pepperId: key.pepperId, plugins: [], createdBy: 'test' },
    });
    token = key.token;
    tenantId = tenant.id;
  });
  afterAll(async () => {
    await gateway?.close();
    await relay?.close();
    await database?.close();
    dataDir.remove();
  });

  const initialize = () =>
    fetch(`${gateway.url}/t/acme/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: INITIALIZE,
    });
  const openSse = () => fetch(`${gateway.url}/t/acme/sse`, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } });
  const readyz = async () => {
    const res = await fetch(`${gateway.url}/readyz`);
    return { status: res.status, body: (await res.json()) as { ready: boolean; status: string; checks: Record<string, string> } };
  };

  it('refuses new sessions as unavailable (503, JSON-RPC error, Retry-After) and stays ready, then recovers', async () => {
    // The key is cached now: only what the session needs beyond it (installations) is missing during the cut.
    const before = await initialize();
    expect(before.status).toBe(200);
    await before.body?.cancel();
    expect(await readyz()).toEqual({ status: 200, body: { ready: true, status: 'ok', checks: { sessions: 'ok', database: 'ok' } } });

    await relay.cut();
    try {
      // The tenant's installations must be read again (as after their 5 s cache): a change event drops them, the key stays cached.
      await bus.publish({ type: 'plugins.changed', tenantId });
      for (const response of [await initialize(), await openSse()]) {
        expect(response.status).toBe(503);
        expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(await response.json()).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32000, message: expect.stringMatching(/^Service Unavailable/) } });
      }
      // Still ready: it serves its open sessions, and every node loses the same database at once.
      expect(await readyz()).toEqual({ status: 200, body: { ready: true, status: 'degraded', checks: { sessions: 'ok', database: 'degraded' } } });
    } finally {
      await relay.restore();
    }

    const after = await initialize();
    expect(after.status).toBe(200);
    await after.body?.cancel();
    expect((await readyz()).body.checks.database).toBe('ok');
  });
});
