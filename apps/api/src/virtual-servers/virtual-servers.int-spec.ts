import { InProcessControlBus, InProcessSessionDirectory, type ControlEvent } from '@switchboard/coordination';
import { SharedUsageSink } from '@switchboard/metering';
import { startTestApi, type TestApi } from '../testing/api-test-harness';

describe('virtual servers API', () => {
  let t: TestApi;
  // The bus a gateway started in the same process would share with the API.
  const bus = new InProcessControlBus();
  const events: ControlEvent[] = [];
  let acmeId: string;
  let otherId: string;

  beforeAll(async () => {
    t = await startTestApi('virtual_servers_api', {}, { embedded: { controlBus: bus, usage: new SharedUsageSink(), sessions: new InProcessSessionDirectory() } });
    bus.subscribe((event) => events.push(event));
    acmeId = (await t.request('POST', '/v1/tenants', { token: t.platformToken, body: { slug: 'acme', name: 'Acme' } })).body.id;
    otherId = (await t.request('POST', '/v1/tenants', { token: t.platformToken, body: { slug: 'other', name: 'Other' } })).body.id;
    await admin('PUT', '/v1/tenants/acme/plugins/echo-lite', {});
    await admin('PUT', '/v1/tenants/acme/plugins/echo-b', { plugin: 'echo-lite' });
  });
  afterAll(async () => {
    await t.close();
  });

  const admin = (method: string, path: string, body?: unknown) => t.request(method, path, { token: t.platformToken, body });
  const issuePaths = (res: { body: { error: { details?: { issues?: { path: string }[] } } } }) => res.body.error.details?.issues?.map((issue) => issue.path);
  const CURATED = { description: 'Support tools', tools: [{ source: 'echo-lite__echo', name: 'say', description: 'Says it back' }, { source: 'echo-b__echo', name: 'say-b' }] };

  it('creates a server, lists and reads it, records it in the audit log and tells gateways', async () => {
    events.length = 0;
    const created = await admin('POST', '/v1/tenants/acme/virtual-servers', { name: 'support', ...CURATED });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'support', description: 'Support tools', tools: CURATED.tools });
    expect(created.body.urls).toEqual({ streamableHttp: 'https://mcp.example.test/t/acme/v/support/mcp', sse: 'https://mcp.example.test/t/acme/v/support/sse' });
    expect(events).toContainEqual({ type: 'plugins.changed', tenantId: acmeId });
    expect((await admin('GET', '/v1/tenants/acme/virtual-servers')).body.items.map((s: { name: string }) => s.name)).toEqual(['support']);
    expect((await admin('GET', '/v1/tenants/acme/virtual-servers/support')).body).toMatchObject({ tools: CURATED.tools });
    const audit = await admin('GET', '/v1/tenants/acme/audit');
    const actions = audit.body.items.map((e: { action: string }) => e.action);
    expect(actions).toContain('virtual-server.create');
  });

  it('names a tool after its source when no name is given, and refuses two tools of one name at the field', async () => {
    const res = await admin('POST', '/v1/tenants/acme/virtual-servers', { name: 'plain', tools: [{ source: 'echo-lite__echo' }] });
    expect(res.status).toBe(201);
    expect(res.body.tools).toEqual([{ source: 'echo-lite__echo', name: 'echo' }]);
    // Both default to `echo`: the second is the duplicate.
    const clash = await admin('POST', '/v1/tenants/acme/virtual-servers', { name: 'clash', tools: [{ source: 'echo-lite__echo' }, { source: 'echo-b__echo' }] });
    expect([clash.status, issuePaths(clash)]).toEqual([400, ['tools.1.name']]);
    const twice = await admin('POST', '/v1/tenants/acme/virtual-servers', { name: 'twice', tools: [{ source: 'echo-b__echo', name: 'a' }, { source: 'echo-b__echo', name: 'b' }] });
    expect([twice.status, issuePaths(twice)]).toEqual([400, ['tools.1.source']]);
  });

  it('refuses bad input with 400 naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ name: 'Bad Name', tools: [] }, 'name'],
      [{ name: 'a'.repeat(41), tools: [] }, 'name'],
      [{ name: 'ok', tools: [{ source: 'no-separator' }] }, 'tools.0.source'],
      [{ name: 'ok', tools: [{ source: 'echo-lite__echo', name: 'has space' }] }, 'tools.0.name'],
      [{ name: 'ok', tools: [{ source: 'echo-lite__echo', description: '' }] }, 'tools.0.description'],
      [{ name: 'ok', tools: [{ source: 'echo-lite__echo', extra: 1 }] }, 'tools.0.extra'],
      [{ name: 'ok' }, 'tools'],
      [{ name: 'ok', tools: [], description: 'x'.repeat(1001) }, 'description'],
      // An installation the tenant does not have (another tenant's does not count).
      [{ name: 'ok', tools: [{ source: 'weather__forecast' }] }, 'tools.0.source'],
    ];
    for (const [body, field] of cases) {
      const res = await admin('POST', '/v1/tenants/acme/virtual-servers', body);
      expect([JSON.stringify(body), res.status, res.body.error.code]).toEqual([JSON.stringify(body), 400, 'VALIDATION_FAILED']);
      expect(issuePaths(res)).toContain(field);
    }
  });

  it('refuses a second server of the same name with 409', async () => {
    const res = await admin('POST', '/v1/tenants/acme/virtual-servers', { name: 'support', tools: [] });
    expect([res.status, res.body.error.code, issuePaths(res)]).toEqual([409, 'VIRTUAL_SERVER_NAME_TAKEN', ['name']]);
  });

  it('replaces a server whole with PUT and deletes it, each change told to gateways', async () => {
    events.length = 0;
    const put = await admin('PUT', '/v1/tenants/acme/virtual-servers/plain', { tools: [{ source: 'echo-b__echo', name: 'only-b' }] });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ description: '', tools: [{ source: 'echo-b__echo', name: 'only-b' }] });
    expect((await admin('PUT', '/v1/tenants/acme/virtual-servers/missing', { tools: [] })).status).toBe(404);
    expect((await admin('DELETE', '/v1/tenants/acme/virtual-servers/plain')).status).toBe(204);
    expect((await admin('GET', '/v1/tenants/acme/virtual-servers/plain')).status).toBe(404);
    expect(events.filter((e) => e.type === 'plugins.changed')).toHaveLength(2);
  });

  it("keeps a tenant admin to its own tenant: another tenant's servers are not found", async () => {
    const otherAdmin = t.tenantAdminToken(otherId);
    const as = (method: string, path: string, body?: unknown) => t.request(method, path, { token: otherAdmin, body });
    expect((await as('GET', '/v1/tenants/acme/virtual-servers')).status).toBe(404);
    expect((await as('GET', '/v1/tenants/acme/virtual-servers/support')).status).toBe(404);
    expect((await as('PUT', '/v1/tenants/acme/virtual-servers/support', { tools: [] })).status).toBe(404);
    expect((await as('DELETE', '/v1/tenants/acme/virtual-servers/support')).status).toBe(404);
    expect((await as('POST', '/v1/tenants/acme/virtual-servers', { name: 'mine', tools: [] })).status).toBe(404);
    // Its own tenant works, and does not see acme's.
    expect((await as('GET', '/v1/tenants/other/virtual-servers')).body.items).toEqual([]);
    expect((await as('GET', '/v1/tenants/other/virtual-servers/support')).status).toBe(404);
    // Nothing of acme's changed.
    expect((await admin('GET', '/v1/tenants/acme/virtual-servers/support')).body.tools).toEqual(CURATED.tools);
  });

  it('issues a key restricted to virtual servers, whose client URLs are its server', async () => {
    const res = await admin('POST', '/v1/tenants/acme/api-keys', { name: 'support desk', virtualServers: ['support'], tools: ['echo-lite__echo'] });
    expect(res.status).toBe(201);
    expect(res.body.key).toMatchObject({ virtualServers: ['support'], tools: ['echo-lite__echo'] });
    expect(res.body.urls.streamableHttp).toBe('https://mcp.example.test/t/acme/v/support/mcp');
    const unknown = await admin('POST', '/v1/tenants/acme/api-keys', { name: 'x', virtualServers: ['support', 'nope'] });
    expect([unknown.status, issuePaths(unknown)]).toEqual([400, ['virtualServers.1']]);
    const malformed = await admin('POST', '/v1/tenants/acme/api-keys', { name: 'x', virtualServers: ['Not A Name'] });
    expect([malformed.status, issuePaths(malformed)]).toEqual([400, ['virtualServers.0']]);
    // Another tenant's server of the same name does not exist for this tenant.
    const elsewhere = await admin('POST', '/v1/tenants/other/api-keys', { name: 'x', virtualServers: ['support'] });
    expect([elsewhere.status, issuePaths(elsewhere)]).toEqual([400, ['virtualServers.0']]);
    // Rotation keeps the restriction.
    const rotated = await admin('POST', `/v1/tenants/acme/api-keys/${res.body.key.id}/rotate`, {});
    expect(rotated.body.key.virtualServers).toEqual(['support']);
  });

  it('answers 404 for names no server can have, never a 500', async () => {
    for (const name of ['%00', 'UPPER', 'a'.repeat(300)]) expect((await admin('GET', `/v1/tenants/acme/virtual-servers/${name}`)).status).toBe(404);
  });
});
