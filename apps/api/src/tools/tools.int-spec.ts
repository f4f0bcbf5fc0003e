import { openDatabase, type Database } from '@switchboard/db';
import { startTestApi, type TestApi } from '../testing/api-test-harness';

describe("tenant tools API (GET /v1/tenants/{t}/tools)", () => {
  let t: TestApi;
  let db: Database;
  let acme: string;
  let globex: string;
  const listedAt = new Date('2026-12-02T08:00:00.000Z');

  beforeAll(async () => {
    t = await startTestApi('tools_api');
    db = openDatabase({ url: t.databaseUrl, dataDir: '' });
    acme = (await t.request('POST', '/v1/tenants', { token: t.platformToken, body: { slug: 'acme', name: 'Acme' } })).body.id;
    globex = (await t.request('POST', '/v1/tenants', { token: t.platformToken, body: { slug: 'globex', name: 'Globex' } })).body.id;
    expect((await t.request('PUT', '/v1/tenants/acme/plugins/echo-lite', { token: t.platformToken, body: {} })).status).toBe(200);
    // Rows as a gateway node leaves them: what it listed for a federated upstream, and a row written by hand.
    await db.prisma.pluginInstallation.createMany({
      data: [
        { tenantId: acme, name: 'github', plugin: 'remote-mcp', config: { url: 'https://mcp.example.test/mcp' }, listedTools: [{ name: 'search_issues', title: 'Search issues', description: 'finds issues' }, { name: 'close_issue' }], listedToolsAt: listedAt },
        { tenantId: acme, name: 'broken', plugin: 'remote-mcp', config: { url: 'https://mcp.example.test/mcp' }, listedTools: { not: 'a list' }, listedToolsAt: listedAt },
        { tenantId: acme, name: 'odd', plugin: 'remote-mcp', config: 'not an object', listedTools: [42, { name: 'ok_tool' }, { name: '../etc' }] },
        {
          tenantId: acme,
          name: 'linear',
          plugin: 'remote-mcp',
          config: { url: 'https://mcp.example.test/mcp', auth: 'oauth', oauthMode: 'per-user', declaredTools: [{ name: 'whoami', description: 'who the upstream sees' }] },
        },
        { tenantId: globex, name: 'secret-upstream', plugin: 'remote-mcp', config: { url: 'https://globex.example.test/mcp' }, listedTools: [{ name: 'globex_only' }], listedToolsAt: listedAt },
      ],
    });
  });
  afterAll(async () => {
    await db.close();
    await t.close();
  });

  it("lists the tenant's declared and listed tools under the gateway's names", async () => {
    const res = await t.request('GET', '/v1/tenants/acme/tools', { token: t.tenantAdminToken(acme) });
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual([
      { name: 'echo-lite__echo', installation: 'echo-lite', tool: 'echo', description: expect.any(String), origin: 'declared' },
      { name: 'github__search_issues', installation: 'github', tool: 'search_issues', title: 'Search issues', description: 'finds issues', origin: 'listed', listedAt: listedAt.toISOString() },
      { name: 'github__close_issue', installation: 'github', tool: 'close_issue', origin: 'listed', listedAt: listedAt.toISOString() },
      { name: 'linear__whoami', installation: 'linear', tool: 'whoami', description: 'who the upstream sees', origin: 'declared' },
      { name: 'odd__ok_tool', installation: 'odd', tool: 'ok_tool', origin: 'listed' },
    ]);
  });

  it('reads a malformed installation list defensively: the rest of the tenant is still listed', async () => {
    const res = await t.request('GET', '/v1/tenants/acme/tools', { token: t.platformToken });
    expect(res.status).toBe(200);
    expect(res.body.items.filter((tool: { installation: string }) => tool.installation === 'broken')).toEqual([]);
  });

  it("does not show another tenant's tools, and answers its admin the same 404 as for a tenant that does not exist", async () => {
    const own = await t.request('GET', '/v1/tenants/acme/tools', { token: t.tenantAdminToken(acme) });
    expect(JSON.stringify(own.body)).not.toContain('globex_only');
    const stranger = await t.request('GET', '/v1/tenants/acme/tools', { token: t.tenantAdminToken(globex) });
    const missing = await t.request('GET', '/v1/tenants/nobody/tools', { token: t.tenantAdminToken(globex) });
    expect([stranger.status, stranger.body]).toEqual([404, missing.body]);
    expect(JSON.stringify(stranger.body)).not.toContain('search_issues');
  });

  it('refuses a request without an admin token', async () => {
    expect((await t.request('GET', '/v1/tenants/acme/tools')).status).toBe(401);
  });
});
