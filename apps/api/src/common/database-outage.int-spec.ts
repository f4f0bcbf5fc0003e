import { startTestApi, type TestApi } from '../testing/api-test-harness';

/** A real outage: the API reaches Postgres through a TCP relay that the test cuts and restores. */
describe('a database outage', () => {
  let t: TestApi;
  let apiKey: string;

  beforeAll(async () => {
    t = await startTestApi('db_outage', {}, { databaseRelay: true });
    await t.request('POST', '/v1/tenants', { token: t.platformToken, body: { slug: 'acme', name: 'Acme' } });
    apiKey = (await t.request('POST', '/v1/tenants/acme/api-keys', { token: t.platformToken, body: { name: 'ci' } })).body.secret;
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers 503 DATABASE_UNAVAILABLE with Retry-After while the database is away, and 200 once it is back', async () => {
    const relay = t.databaseRelay!;
    expect((await t.request('GET', '/v1/tenants/acme', { token: t.platformToken })).status).toBe(200);

    await relay.cut();
    try {
      for (const [method, path] of [
        ['GET', '/v1/tenants'],
        ['GET', '/v1/tenants/acme'],
        ['GET', '/v1/tenants/acme/api-keys'],
        ['GET', '/v1/tenants/acme/usage?from=2026-11-01&to=2026-11-02'],
      ] as const) {
        const res = await t.request(method, path, { token: t.platformToken });
        expect({ path, status: res.status, body: res.body }).toEqual({
          path,
          status: 503,
          body: { error: { code: 'DATABASE_UNAVAILABLE', message: expect.any(String) } },
        });
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      }
      const write = await t.request('POST', '/v1/tenants', { token: t.platformToken, body: { slug: 'during-outage', name: 'x' } });
      expect(write.status).toBe(503);
      expect(write.headers.get('retry-after')).not.toBeNull();
      // Logged as the outage it is, not as an unhandled error.
      expect(t.logs()).toContain('"msg":"database unavailable"');
      expect(t.logs()).not.toContain('"msg":"unhandled error"');
    } finally {
      await relay.restore();
    }

    const after = await t.request('GET', '/v1/tenants/acme', { token: t.platformToken });
    expect(after.status).toBe(200);
    expect(after.headers.get('retry-after')).toBeNull();
  });

  it('answers 503 to an API key caller whose key must be looked up during the outage', async () => {
    const relay = t.databaseRelay!;
    await relay.cut();
    try {
      const res = await t.request('POST', '/v1/tokens', { token: apiKey, body: { subject: 'alice' } });
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('DATABASE_UNAVAILABLE');
    } finally {
      await relay.restore();
    }
    expect((await t.request('POST', '/v1/tokens', { token: apiKey, body: { subject: 'alice' } })).status).toBe(201);
  });

  it('reports the API not ready while the database is away (the probe, unlike data routes, is for balancers)', async () => {
    const relay = t.databaseRelay!;
    await relay.cut();
    try {
      const res = await t.request('GET', '/readyz');
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('NOT_READY');
    } finally {
      await relay.restore();
    }
    expect((await t.request('GET', '/readyz')).status).toBe(200);
  });
});
