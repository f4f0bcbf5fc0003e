import { randomBytes } from 'node:crypto';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { generateApiKey } from '@switchboard/api-keys';
import { InProcessControlBus } from '@switchboard/coordination';
import type { PrismaClient } from '@switchboard/db';
import { keyIdOf, pluginSecretsAad, SecretBox, type KeyRing } from '@switchboard/secrets';
import { connectMcpClient, createMigratedDatabase, createTempDataDir, eventually, startApiProcess, type ApiProcess } from '@switchboard/testing';
import jwt from 'jsonwebtoken';
import { startGateway, type RunningGateway } from '../src/main';
import { disconnect, TESTKIT_PLUGIN } from './gateway-harness';
import { npmBin } from './hosted-fixtures';

jest.setTimeout(90_000);

// The tools a gateway lists for an installation at run time (a federated upstream's, a hosted
// stdio server's) reach the admin API's GET /v1/tenants/{t}/tools through Postgres: a gateway in
// this process (tenant "front" federates tenant "back" on it, as remote-mcp.int-spec.ts does) and
// the built admin API as a process over the same database.

type Json = Record<string, any>;
interface Tool { name: string; installation: string; tool: string; origin: string; listedAt?: string }

describe('listed tools recorded by the gateway, shown by the admin API', () => {
  const adminSecret = randomBytes(32).toString('base64');
  const secretsKey = randomBytes(32);
  const pepper = randomBytes(32);
  const peppers: KeyRing = { current: { id: keyIdOf(pepper), key: pepper }, previous: [] };
  const box = new SecretBox({ current: secretsKey });
  const bus = new InProcessControlBus();
  const gatewayData = createTempDataDir('gw_listed_tools');
  const apiData = createTempDataDir('api_listed_tools');
  let database: Awaited<ReturnType<typeof createMigratedDatabase>>;
  let prisma: PrismaClient;
  let gateway: RunningGateway;
  let api: ApiProcess;
  const tenants: Record<string, string> = {};
  const clients: Client[] = [];

  const adminToken = (tenantId?: string) =>
    jwt.sign(tenantId ? { tenant: tenantId } : { role: 'admin' }, adminSecret, {
      algorithm: 'HS256',
      issuer: 'switchboard',
      audience: 'switchboard-admin',
      subject: tenantId ? `tenant-admin:${tenantId}` : 'admin',
      expiresIn: 600,
    });
  const toolsOf = async (slug: string, token = adminToken(tenants[slug])): Promise<{ status: number; body: Json }> => {
    const res = await fetch(`${api.url}/v1/tenants/${slug}/tools`, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, body: (await res.json()) as Json };
  };
  const items = async (slug: string): Promise<Tool[]> => (await toolsOf(slug)).body['items'] as Tool[];
  const issueKey = async (tenantId: string) => {
    const key = generateApiKey(peppers);
    await prisma.apiKey.create({ data: { tenantId, name: 'k', publicId: key.publicId, secretHash: key.secretHash, pepperId: key.pepperId, plugins: [], createdBy: 'test' } });
    return key.token;
  };
  const install = (tenantId: string, name: string, plugin: string, config: Record<string, unknown>, secrets?: Record<string, unknown>) =>
    prisma.pluginInstallation.create({
      data: {
        tenantId,
        name,
        plugin,
        config: config as never,
        secrets: secrets ? box.encrypt(secrets, pluginSecretsAad(tenantId, name)) : null,
        secretsKeyId: secrets ? box.currentKeyId : null,
      },
    });
  const row = (slug: string, name: string) => prisma.pluginInstallation.findFirstOrThrow({ where: { name, tenant: { slug } } });
  const connect = async (slug: string) => {
    const client = await connectMcpClient(gateway.url, `/t/${slug}`, await issueKey(tenants[slug]), 'streamable-http');
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    database = await createMigratedDatabase('gw_listed_tools');
    prisma = database.db.prisma;
    gateway = await startGateway(
      {
        DATABASE_URL: database.test.url,
        GATEWAY_PORT: '0',
        GATEWAY_METRICS_PORT: 'off',
        DATA_DIR: gatewayData.dir,
        SECRETS_KEY: secretsKey.toString('base64'),
        KEY_PEPPER: pepper.toString('base64'),
        LOG_LEVEL: 'silent',
        PLUGINS: TESTKIT_PLUGIN,
        // Loopback is opened for plugins explicitly: "front" federates "back" on this gateway.
        OUTBOUND_ALLOW_CIDRS: '127.0.0.1/32',
      },
      { bus },
    );
    api = await startApiProcess({
      DATABASE_URL: database.test.url,
      DATA_DIR: apiData.dir,
      ADMIN_JWT_SECRET: adminSecret,
      SECRETS_KEY: secretsKey.toString('base64'),
      KEY_PEPPER: pepper.toString('base64'),
      PUBLIC_GATEWAY_URL: gateway.url,
      HOST: '127.0.0.1',
      API_PORT: '0',
      API_METRICS_PORT: 'off',
    });
    for (const slug of ['back', 'front', 'stranger']) tenants[slug] = (await prisma.tenant.create({ data: { slug, name: slug } })).id;
    await install(tenants['back'], 'echo', 'echo', {});
    await install(tenants['front'], 'bridge', 'remote-mcp', { url: `${gateway.url}/t/back/mcp` }, { bearerToken: await issueKey(tenants['back']) });
    // Per-user: every session sees the declared list; nothing a person's account lists is recorded.
    await install(tenants['front'], 'personal', 'remote-mcp', {
      url: `${gateway.url}/t/back/mcp`,
      auth: 'oauth',
      oauthMode: 'per-user',
      declaredTools: [{ name: 'whoami', description: 'who the upstream sees' }],
    });
    await prisma.serverTemplate.create({ data: { name: 'memory', description: 'memory', command: process.execPath, args: [npmBin('@modelcontextprotocol/server-memory')], env: [{ name: 'MEMORY_FILE_PATH', value: '{home}/memory.jsonl' }] as never, defaultMode: 'isolated' } });
    await install(tenants['front'], 'memory', 'memory', {});
    // Same upstream, a key it refuses: listing fails, so nothing is recorded.
    await install(tenants['stranger'], 'bridge', 'remote-mcp', { url: `${gateway.url}/t/back/mcp` }, { bearerToken: 'sbk_not-a-real-key' });
    // Written in the same pass as "bridge" would be: once it is there, a wrong write would be too.
    await install(tenants['stranger'], 'good', 'remote-mcp', { url: `${gateway.url}/t/back/mcp` }, { bearerToken: await issueKey(tenants['back']) });
  });
  afterAll(async () => {
    for (const client of clients) await disconnect(client).catch(() => undefined);
    await api?.close();
    await gateway?.close();
    await database?.close();
    gatewayData.remove();
    apiData.remove();
  });

  it("shows no listed tool before a gateway built the tenant's catalog, only the declared ones", async () => {
    const before = await items('front');
    expect(before.filter((t) => t.origin === 'listed')).toEqual([]);
    expect(before).toContainEqual({ name: 'personal__whoami', installation: 'personal', tool: 'whoami', description: 'who the upstream sees', origin: 'declared' });
  });

  it("shows the upstream's and the hosted server's tools as listed once a client listed the tenant's tools", async () => {
    const client = await connect('front');
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toContain('bridge__echo__echo');
    expect(names).toContain('memory__create_entities');
    await eventually(async () => (await items('front')).some((t) => t.name === 'memory__create_entities'), 15_000);
    const tools = await items('front');
    expect(tools).toContainEqual(expect.objectContaining({ name: 'bridge__echo__echo', installation: 'bridge', tool: 'echo__echo', origin: 'listed', listedAt: expect.any(String) }));
    expect(tools).toContainEqual(expect.objectContaining({ name: 'memory__create_entities', installation: 'memory', tool: 'create_entities', origin: 'listed' }));
    // Every tool the client can call is in the API's list, under the same name.
    expect(names.filter((name) => !tools.some((t) => t.name === name))).toEqual([]);
  });

  it("records nothing for a per-user installation, and leaves the installation's own updatedAt as the admin left it", async () => {
    const personal = await row('front', 'personal');
    expect([personal.listedTools, personal.listedToolsAt]).toEqual([null, null]);
    const bridge = await row('front', 'bridge');
    expect(bridge.listedToolsAt).not.toBeNull();
    expect(bridge.updatedAt.getTime()).toBeLessThan(bridge.listedToolsAt!.getTime());
    expect(bridge.updatedAt).toEqual(bridge.createdAt);
  });

  it("never writes one tenant's list into another tenant's row, nor a failed listing into any", async () => {
    const stranger = await connect('stranger');
    expect((await stranger.listTools()).tools.filter((t) => t.name.startsWith('bridge__'))).toEqual([]);
    await eventually(async () => (await row('stranger', 'good')).listedTools !== null);
    expect((await row('stranger', 'bridge')).listedTools).toBeNull();
    // The upstream tenant's own installation declares its tools: nothing listed to record.
    expect((await row('back', 'echo')).listedTools).toBeNull();
    expect((await items('stranger')).filter((t) => t.origin === 'listed').map((t) => t.installation)).toEqual(['good']);
    expect((await items('front')).some((t) => t.installation === 'good')).toBe(false);
  });

  it("answers another tenant's admin 404, as for a tenant that does not exist", async () => {
    const refused = await toolsOf('front', adminToken(tenants['stranger']));
    const missing = await toolsOf('nobody', adminToken(tenants['stranger']));
    expect([refused.status, refused.body]).toEqual([404, missing.body]);
  });

  it('records the new list when the upstream announces list_changed', async () => {
    const client = clients[0];
    let announced = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => void announced++);
    const before = (await row('front', 'bridge')).listedToolsHash;
    await install(tenants['back'], 'notes', 'notes', {});
    await bus.publish({ type: 'plugins.changed', tenantId: tenants['back'] });
    await eventually(() => announced > 0);
    await eventually(async () => (await client.listTools()).tools.some((t) => t.name === 'bridge__notes__add'));
    await eventually(async () => (await items('front')).some((t) => t.name === 'bridge__notes__add' && t.origin === 'listed'), 15_000);
    expect((await row('front', 'bridge')).listedToolsHash).not.toBe(before);
  });
});
