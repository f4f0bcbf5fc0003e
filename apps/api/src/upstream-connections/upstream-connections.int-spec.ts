import { openDatabase, type Database } from '@switchboard/db';
import { ConnectSeals } from '@switchboard/upstream-auth';
import { PUBLIC_GATEWAY_URL, startTestApi, type TestApi } from '../testing/api-test-harness';

/**
 * The admin half of upstream OAuth (docs/upstream-oauth.md): a tenant admin starts a connect for
 * an installation of its own tenant with `auth: oauth` and gets a single-use gateway URL; the
 * round trip itself is tested against real gateways in apps/gateway/test/upstream-oauth.int-spec.ts.
 * remote-mcp is not in this API's fixture catalog, so the installations are written straight into
 * the database, as the plugins API would store them.
 */
describe('upstream connections API', () => {
  let t: TestApi;
  let db: Database;
  let acmeId: string;
  let otherId: string;
  let installationId: string;

  beforeAll(async () => {
    t = await startTestApi('upstream_connections_api');
    db = openDatabase({ url: t.databaseUrl, dataDir: '' });
    acmeId = (await t.request('POST', '/v1/tenants', { token: t.platformToken, body: { slug: 'acme', name: 'Acme' } })).body.id;
    otherId = (await t.request('POST', '/v1/tenants', { token: t.platformToken, body: { slug: 'other', name: 'Other' } })).body.id;
    installationId = (await db.prisma.pluginInstallation.create({ data: { tenantId: acmeId, plugin: 'remote-mcp', name: 'crm', config: { url: 'https://crm.example.com/mcp', auth: 'oauth' } } })).id;
    await db.prisma.pluginInstallation.create({ data: { tenantId: acmeId, plugin: 'remote-mcp', name: 'static', config: { url: 'https://other.example.com/mcp' } } });
    await db.prisma.pluginInstallation.create({ data: { tenantId: otherId, plugin: 'remote-mcp', name: 'crm', config: { url: 'https://crm.example.com/mcp', auth: 'oauth' } } });
  });
  afterAll(async () => {
    await db?.close();
    await t?.close();
  });

  const asAcme = (method: string, path: string) => t.request(method, path, { token: t.tenantAdminToken(acmeId) });

  it('starts a connect for a tenant admin: a single-use gateway URL whose ticket is bound to the installation, audited', async () => {
    const res = await asAcme('POST', '/v1/tenants/acme/plugins/crm/upstream-connection');
    expect(res.status).toBe(201);
    const url = new URL(res.body.connectUrl);
    expect(`${url.origin}${url.pathname}`).toBe(`${PUBLIC_GATEWAY_URL}/oauth/upstream/connect`);
    const ticket = new ConnectSeals({ current: t.secretsKey }).openTicket(url.searchParams.get('ticket') ?? undefined);
    expect(ticket).toMatchObject({ tenantId: acmeId, installationId, subject: '' });
    // The row keeps a hash of the ticket's nonce, never the nonce.
    const row = await db.prisma.upstreamCredential.findFirstOrThrow({ where: { tenantId: acmeId, installationId } });
    expect(row.pendingNonce).toBe(ConnectSeals.nonceHash(ticket!.nonce));
    expect(JSON.stringify(row)).not.toContain(ticket!.nonce);
    expect((await asAcme('GET', '/v1/tenants/acme/plugins/crm/upstream-connection')).body).toEqual({ installation: 'crm', status: 'pending', connectedAt: null, expiresAt: null, lastError: null });
    const audit = await asAcme('GET', '/v1/tenants/acme/audit');
    expect(audit.body.items.map((e: { action: string }) => e.action)).toContain('upstream-connection.start');
    // The ticket is a capability: it appears in no log line.
    expect(t.logs()).not.toContain(url.searchParams.get('ticket'));
  });

  it('a newer connect replaces the one under way: only the newest ticket can begin', async () => {
    const first = new URL((await asAcme('POST', '/v1/tenants/acme/plugins/crm/upstream-connection')).body.connectUrl).searchParams.get('ticket')!;
    const second = new URL((await asAcme('POST', '/v1/tenants/acme/plugins/crm/upstream-connection')).body.connectUrl).searchParams.get('ticket')!;
    const seals = new ConnectSeals({ current: t.secretsKey });
    const row = await db.prisma.upstreamCredential.findFirstOrThrow({ where: { tenantId: acmeId, installationId } });
    expect(row.pendingNonce).toBe(ConnectSeals.nonceHash(seals.openTicket(second)!.nonce));
    expect(row.pendingNonce).not.toBe(ConnectSeals.nonceHash(seals.openTicket(first)!.nonce));
  });

  it('refuses an installation that does not use OAuth with 400 naming config.auth, and an unknown one with 404', async () => {
    const stat = await asAcme('POST', '/v1/tenants/acme/plugins/static/upstream-connection');
    expect(stat.status).toBe(400);
    expect(stat.body.error.details.issues.map((i: { path: string }) => i.path)).toEqual(['config.auth']);
    expect((await asAcme('POST', '/v1/tenants/acme/plugins/nope/upstream-connection')).status).toBe(404);
  });

  it("attacker: another tenant's admin can neither start nor see nor delete acme's connection (404 as for none)", async () => {
    const asOther = (method: string) => t.request(method, '/v1/tenants/acme/plugins/crm/upstream-connection', { token: t.tenantAdminToken(otherId) });
    for (const method of ['POST', 'GET', 'DELETE']) expect((await asOther(method)).status).toBe(404);
    // Its own installation of the same name is its own: a connect there never names acme's installation.
    const own = await t.request('POST', '/v1/tenants/other/plugins/crm/upstream-connection', { token: t.tenantAdminToken(otherId) });
    const ticket = new ConnectSeals({ current: t.secretsKey }).openTicket(new URL(own.body.connectUrl).searchParams.get('ticket')!);
    expect(ticket?.tenantId).toBe(otherId);
    expect(ticket?.installationId).not.toBe(installationId);
    expect((await t.request('POST', '/v1/tenants/acme/plugins/crm/upstream-connection')).status).toBe(401);
  });

  it('forgets the credential on DELETE', async () => {
    expect((await asAcme('DELETE', '/v1/tenants/acme/plugins/crm/upstream-connection')).status).toBe(204);
    expect((await asAcme('GET', '/v1/tenants/acme/plugins/crm/upstream-connection')).body.status).toBe('not_connected');
  });
  describe('per-user installations', () => {
    let perUserId: string;
    const people = '/v1/tenants/acme/plugins/personal/upstream-connection/people';
    beforeAll(async () => {
      perUserId = (
        await db.prisma.pluginInstallation.create({
          data: { tenantId: acmeId, plugin: 'remote-mcp', name: 'personal', config: { url: 'https://crm.example.com/mcp', auth: 'oauth', oauthMode: 'per-user', declaredTools: [{ name: 'search' }] } },
        })
      ).id;
      for (const subject of ['', 'key:k-a', 'sso:https://idp.example#b'])
        await db.prisma.upstreamCredential.create({ data: { tenantId: acmeId, installationId: perUserId, subject, status: 'connected', sealed: `sealed-tokens-of-${subject}` } });
    });

    it('refuses to start a shared connect there, naming config.oauthMode', async () => {
      const res = await asAcme('POST', '/v1/tenants/acme/plugins/personal/upstream-connection');
      expect(res.status).toBe(400);
      expect(res.body.error.details.issues.map((i: { path: string }) => i.path)).toEqual(['config.oauthMode']);
    });

    it('lists every person\'s connection and status, never the shared row nor token material', async () => {
      const res = await asAcme('GET', people);
      expect(res.status).toBe(200);
      expect(res.body.items.map((i: { subject: string; status: string }) => [i.subject, i.status])).toEqual([
        ['key:k-a', 'connected'],
        ['sso:https://idp.example#b', 'connected'],
      ]);
      expect(JSON.stringify(res.body)).not.toContain('sealed-tokens-of');
    });

    it('forgets exactly one person\'s connection, audited; the shared route\'s row stays', async () => {
      expect((await t.request('DELETE', `${people}?subject=${encodeURIComponent('key:k-a')}`, { token: t.tenantAdminToken(acmeId) })).status).toBe(204);
      expect((await asAcme('GET', people)).body.items.map((i: { subject: string }) => i.subject)).toEqual(['sso:https://idp.example#b']);
      expect((await t.request('DELETE', `${people}?subject=`, { token: t.tenantAdminToken(acmeId) })).status).toBe(400);
      expect(await db.prisma.upstreamCredential.count({ where: { installationId: perUserId, subject: '' } })).toBe(1);
      const audit = await asAcme('GET', '/v1/tenants/acme/audit');
      expect(audit.body.items).toContainEqual(expect.objectContaining({ action: 'upstream-connection.delete', details: { installation: 'personal', person: 'key:k-a' } }));
    });

    it("attacker: another tenant's admin can neither list nor forget acme's people (404 as for none)", async () => {
      const asOther = (method: string, path: string) => t.request(method, path, { token: t.tenantAdminToken(otherId) });
      expect((await asOther('GET', people)).status).toBe(404);
      expect((await asOther('DELETE', `${people}?subject=${encodeURIComponent('sso:https://idp.example#b')}`)).status).toBe(404);
      expect(await db.prisma.upstreamCredential.count({ where: { installationId: perUserId, subject: 'sso:https://idp.example#b' } })).toBe(1);
    });
  });
});
