import { openDatabase } from '@switchboard/db';
import { startTestApi, type TestApi } from '../testing/api-test-harness';

describe('health endpoints', () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await startTestApi('health');
  });
  afterAll(async () => {
    await t.close();
  });

  it('reports liveness and readiness without a token', async () => {
    expect(await t.request('GET', '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await t.request('GET', '/readyz')).toMatchObject({ status: 200, body: { status: 'ready' } });
  });

  it('answers 503 with the reason when a migration is pending', async () => {
    const db = openDatabase({ url: t.databaseUrl, dataDir: '' });
    try {
      const [latest] = await db.withConnection((conn) =>
        conn.query<{ migration_name: string }>('SELECT migration_name FROM "_prisma_migrations" ORDER BY migration_name DESC LIMIT 1'),
      );
      await db.withConnection((conn) => conn.query('DELETE FROM "_prisma_migrations" WHERE migration_name = $1', [latest.migration_name]));
      const res = await t.request('GET', '/readyz');
      expect(res.status).toBe(503);
      expect(res.body.error).toMatchObject({ code: 'NOT_READY', details: { reason: 'migrations_pending', pending: [latest.migration_name] } });
    } finally {
      await db.close();
    }
  });

  it('serves the OpenAPI document and Swagger UI', async () => {
    const doc = await t.request('GET', '/openapi.json');
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/v1/tenants', '/v1/tenants/{tenant}/api-keys', '/v1/tokens', '/v1/plugins', '/v1/audit']),
    );
    const body = doc.body.paths['/v1/tenants'].post.requestBody.content['application/json'].schema;
    expect(body).toMatchObject({ type: 'object', required: ['slug', 'name'], additionalProperties: false });
    const ui = await t.request('GET', '/docs');
    expect(ui.status).toBe(200);
    expect(String(ui.body)).toContain('swagger');
  });
});
