import { startTestApi, type TestApi } from '../testing/api-test-harness';

describe('tenants API', () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await startTestApi('tenants');
  });
  afterAll(async () => {
    await t.close();
  });

  const admin = (method: string, path: string, body?: unknown) => t.request(method, path, { token: t.platformToken, body });

  it('creates a tenant and finds it by id and by slug', async () => {
    const created = await admin('POST', '/v1/tenants', { slug: 'acme', name: 'Acme Inc.' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ slug: 'acme', name: 'Acme Inc.', status: 'active', limits: {} });
    expect((await admin('GET', `/v1/tenants/${created.body.id}`)).body).toEqual(created.body);
    expect((await admin('GET', '/v1/tenants/acme')).body).toEqual(created.body);
  });

  it('refuses a duplicate slug with 409', async () => {
    await admin('POST', '/v1/tenants', { slug: 'dupe', name: 'One' });
    const res = await admin('POST', '/v1/tenants', { slug: 'dupe', name: 'Two' });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('SLUG_TAKEN');
  });

  it.each([
    ['too short', 'ab'],
    ['upper case', 'Acme'],
    ['a leading hyphen', '-acme'],
    ['a space', 'ac me'],
    ['too long', 'a'.repeat(41)],
    ['the shape of a tenant id', '123e4567-e89b-42d3-a456-426614174000'],
  ])('refuses a slug with %s, naming the field', async (_why, slug) => {
    const res = await admin('POST', '/v1/tenants', { slug, name: 'x' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.details.issues.map((i: { path: string }) => i.path)).toContain('slug');
  });

  it('refuses unknown fields and wrong types, with the path of each', async () => {
    const res = await admin('POST', '/v1/tenants', { slug: 'fine-slug', name: 42, plan: 'gold' });
    expect(res.status).toBe(400);
    const paths = res.body.error.details.issues.map((i: { path: string }) => i.path).sort();
    expect(paths).toEqual(['name', 'plan']);
  });

  it('names nested fields in limit errors', async () => {
    await admin('POST', '/v1/tenants', { slug: 'limited', name: 'L' });
    const res = await admin('PATCH', '/v1/tenants/limited', { limits: { requestsPerMinute: -1, burst: 3 } });
    expect(res.status).toBe(400);
    const paths = res.body.error.details.issues.map((i: { path: string }) => i.path).sort();
    expect(paths).toEqual(['limits.burst', 'limits.requestsPerMinute']);
  });

  it('answers malformed JSON with 400, a wrong content type with 415 and an oversized body with 413', async () => {
    const json = { 'content-type': 'application/json' };
    const bad = await t.request('POST', '/v1/tenants', { token: t.platformToken, rawBody: '{"slug":', headers: json });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'MALFORMED_REQUEST']);
    const text = await t.request('POST', '/v1/tenants', { token: t.platformToken, rawBody: 'slug=acme', headers: { 'content-type': 'text/plain' } });
    expect([text.status, text.body.error.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    const form = await t.request('POST', '/v1/tenants', { token: t.platformToken, rawBody: 'slug=acme', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(form.status).toBe(415);
    const huge = await t.request('POST', '/v1/tenants', { token: t.platformToken, rawBody: JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) }), headers: json });
    expect([huge.status, huge.body.error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
  });

  it('answers 404 for ids and slugs that cannot exist, and for unknown routes', async () => {
    expect((await admin('GET', '/v1/tenants/not%20a%20slug')).status).toBe(404);
    expect((await admin('GET', '/v1/tenants/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await admin('GET', '/v1/tenants/acme/api-keys/not-a-uuid')).status).toBe(404);
    const route = await admin('GET', '/v1/nothing-here');
    expect([route.status, route.body.error.code]).toEqual([404, 'ROUTE_NOT_FOUND']);
  });

  it('pages through tenants with a cursor, without repeats or gaps', async () => {
    for (let i = 0; i < 5; i += 1) await admin('POST', '/v1/tenants', { slug: `page-${i}`, name: `P${i}` });
    const all = (await admin('GET', '/v1/tenants?limit=200')).body.items.map((x: { slug: string }) => x.slug);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: { slug: string }[]; nextCursor: string | null } } = await admin('GET', `/v1/tenants?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...res.body.items.map((x) => x.slug));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all);
    expect(all.length).toBeGreaterThanOrEqual(5);
  });

  it('refuses a forged cursor and an out-of-range limit', async () => {
    expect((await admin('GET', '/v1/tenants?cursor=bm9wZQ')).body.error.details.issues[0].path).toBe('cursor');
    expect((await admin('GET', '/v1/tenants?limit=0')).status).toBe(400);
    expect((await admin('GET', '/v1/tenants?limit=1&sort=name')).status).toBe(400);
  });

  it('suspends a tenant, which stops its keys at once, and reactivates it', async () => {
    await admin('POST', '/v1/tenants', { slug: 'suspend-me', name: 'S' });
    const key = await admin('POST', '/v1/tenants/suspend-me/api-keys', { name: 'k' });
    const mint = () => t.request('POST', '/v1/tokens', { token: key.body.secret, body: { subject: 'u' } });
    expect((await mint()).status).toBe(201);
    const suspended = await admin('PATCH', '/v1/tenants/suspend-me', { status: 'suspended' });
    expect(suspended.body.status).toBe('suspended');
    const refused = await mint();
    expect([refused.status, refused.body.error.details.reason]).toEqual([401, 'tenant_suspended']);
    await admin('PATCH', '/v1/tenants/suspend-me', { status: 'active' });
    expect((await mint()).status).toBe(201);
  });

  it('updates name and limits and records who did it', async () => {
    const res = await admin('PATCH', '/v1/tenants/acme', { name: 'Acme Corp', limits: { requestsPerMinute: 600, concurrentSessions: null } });
    expect(res.body).toMatchObject({ name: 'Acme Corp', limits: { requestsPerMinute: 600, concurrentSessions: null } });
    const audit = await admin('GET', '/v1/tenants/acme/audit');
    expect(audit.body.items[0]).toMatchObject({ action: 'tenant.update', actor: 'admin', targetType: 'tenant', tenantId: res.body.id });
  });

  it('refuses an empty update', async () => {
    expect((await admin('PATCH', '/v1/tenants/acme', {})).status).toBe(400);
  });

  it('deletes a tenant with its keys; the keys stop working and the audit trail stays', async () => {
    const tenant = await admin('POST', '/v1/tenants', { slug: 'short-lived', name: 'X' });
    const key = await admin('POST', '/v1/tenants/short-lived/api-keys', { name: 'k' });
    expect((await admin('DELETE', '/v1/tenants/short-lived')).status).toBe(204);
    expect((await admin('GET', '/v1/tenants/short-lived')).status).toBe(404);
    const refused = await t.request('POST', '/v1/tokens', { token: key.body.secret, body: { subject: 'u' } });
    expect([refused.status, refused.body.error.details.reason]).toEqual([401, 'unknown']);
    const audit = await admin('GET', `/v1/audit?tenantId=${tenant.body.id}`);
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual(['tenant.delete', 'api-key.issue', 'tenant.create']);
  });
});

describe('tenants API with input Postgres cannot store', () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await startTestApi('tenants_nul');
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers 400, not 500, for NUL characters in bodies, paths and filters', async () => {
    const res = await t.request('POST', '/v1/tenants', { token: t.platformToken, body: { slug: 'nul-co', name: 'a\u0000b' } });
    expect([res.status, res.body.error.details.issues[0].path]).toEqual([400, 'name']);
    await t.request('POST', '/v1/tenants', { token: t.platformToken, body: { slug: 'nul-co', name: 'N' } });
    expect((await t.request('GET', '/v1/tenants/nul-co/plugins/we%00ather', { token: t.platformToken })).status).toBe(404);
    expect((await t.request('GET', '/v1/audit?action=tenant.cr%00eate', { token: t.platformToken })).status).toBe(400);
    const deep = JSON.stringify({ slug: 'deep-co', name: 'x', extra: JSON.parse('['.repeat(100) + ']'.repeat(100)) });
    const nested = await t.request('POST', '/v1/tenants', { token: t.platformToken, rawBody: deep, headers: { 'content-type': 'application/json' } });
    expect(nested.status).toBe(400);
  });
});
