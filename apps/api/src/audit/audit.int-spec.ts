import { startTestApi, type Json, type TestApi } from '../testing/api-test-harness';

describe('audit API filters', () => {
  let t: TestApi;
  let acme: Json;
  let other: Json;
  beforeAll(async () => {
    t = await startTestApi('audit_filters');
    const admin = (method: string, path: string, body?: unknown) => t.request(method, path, { token: t.platformToken, body });
    acme = (await admin('POST', '/v1/tenants', { slug: 'acme', name: 'Acme' })).body;
    other = (await admin('POST', '/v1/tenants', { slug: 'other', name: 'Other' })).body;
    const key = (await admin('POST', '/v1/tenants/acme/api-keys', { name: 'laptop' })).body;
    await admin('POST', `/v1/tenants/acme/api-keys/${key.key.id}/revoke`);
    await admin('PATCH', '/v1/tenants/acme', { name: 'Acme Inc' });
  });
  afterAll(async () => {
    await t.close();
  });

  const tenantAudit = (query: string, token = t.platformToken) => t.request('GET', `/v1/tenants/acme/audit?${query}`, { token });
  const actions = (body: Json) => body.items.map((event: { action: string }) => event.action);

  it('narrows a tenant audit log by target type and target id', async () => {
    const byType = await tenantAudit('targetType=api-key');
    expect(actions(byType.body)).toEqual(['api-key.revoke', 'api-key.issue']);
    const byId = await tenantAudit(`targetType=tenant&targetId=${acme.id}`);
    expect(actions(byId.body)).toEqual(['tenant.update', 'tenant.create']);
  });

  it('narrows by time range [from, to), pages within it, and refuses a range that ends before it starts', async () => {
    const all = (await tenantAudit('')).body.items as { action: string; at: string }[];
    const issued = all.find((event) => event.action === 'api-key.issue')!;
    const since = await tenantAudit(`from=${encodeURIComponent(issued.at)}`);
    expect(actions(since.body)).toEqual(['tenant.update', 'api-key.revoke', 'api-key.issue']);
    const before = await tenantAudit(`to=${encodeURIComponent(issued.at)}`);
    expect(actions(before.body)).toEqual(['tenant.create']);
    const first = await tenantAudit(`from=${encodeURIComponent(issued.at)}&limit=2`);
    const second = await tenantAudit(`from=${encodeURIComponent(issued.at)}&limit=2&cursor=${first.body.nextCursor}`);
    expect([...actions(first.body), ...actions(second.body)]).toEqual(['tenant.update', 'api-key.revoke', 'api-key.issue']);

    const backwards = await tenantAudit('from=2026-11-02&to=2026-11-01');
    expect([backwards.status, backwards.body.error.details.issues[0].path]).toEqual([400, 'to']);
    const notADate = await tenantAudit('from=yesterday');
    expect([notADate.status, notADate.body.error.details.issues[0].path]).toEqual([400, 'from']);
    expect((await tenantAudit('targetType=everything')).status).toBe(400);
  });

  it('does not show a tenant admin the audit log of another tenant, whatever the filters', async () => {
    const token = t.tenantAdminToken(other.id);
    expect((await tenantAudit('targetType=api-key', token)).status).toBe(404);
    expect((await t.request('GET', '/v1/audit', { token })).status).toBe(403);
    const own = await t.request('GET', `/v1/tenants/other/audit?targetId=${acme.id}`, { token });
    expect(own.body.items).toEqual([]);
  });

  it('filters the platform audit log by tenant and target type together', async () => {
    const res = await t.request('GET', `/v1/audit?tenantId=${acme.id}&targetType=tenant`, { token: t.platformToken });
    expect(actions(res.body)).toEqual(['tenant.update', 'tenant.create']);
  });
});
