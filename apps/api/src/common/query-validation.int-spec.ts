import { startTestApi, type TestApi } from '../testing/api-test-harness';

const cursorAt = (at: string) => Buffer.from(JSON.stringify({ at, id: '00000000-0000-4000-8000-000000000000' })).toString('base64url');

/** Out-of-range query values are the client's mistake: 400 naming the field, never a 500 from Postgres. */
describe('query and date validation on every admin endpoint', () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await startTestApi('query_validation');
    await t.request('POST', '/v1/tenants', { token: t.platformToken, body: { slug: 'acme', name: 'Acme' } });
  });
  afterAll(async () => {
    await t.close();
  });

  const expectFieldError = async (method: string, path: string, field: string, body?: unknown) => {
    const res = await t.request(method, path, { token: t.platformToken, body });
    expect({ path, status: res.status, code: res.body?.error?.code }).toEqual({ path, status: 400, code: 'VALIDATION_FAILED' });
    expect(res.body.error.details.issues.map((issue: { path: string }) => issue.path)).toContain(field);
  };

  it('refuses usage ranges in year 0 or beyond year 9999', async () => {
    await expectFieldError('GET', '/v1/tenants/acme/usage?from=0000-01-01&to=0000-02-01', 'from');
    await expectFieldError('GET', '/v1/tenants/acme/usage?from=0001-01-01T00:00:00%2B01:00&to=0001-01-05', 'from');
    await expectFieldError('GET', '/v1/tenants/acme/usage?from=9999-12-30&to=9999-12-31T23:00:00-14:00', 'to');
  });

  it('refuses dates that do not exist instead of rolling them over', async () => {
    await expectFieldError('GET', '/v1/tenants/acme/usage?from=2026-02-01&to=2026-02-31', 'to');
    await expectFieldError('GET', '/v1/tenants/acme/usage?from=2026-11-01T24:00:00Z&to=2026-11-03', 'from');
  });

  it('still answers a valid usage range', async () => {
    expect((await t.request('GET', '/v1/tenants/acme/usage?from=2026-11-01&to=2026-11-02T00:00:00%2B01:00', { token: t.platformToken })).status).toBe(200);
  });

  it('refuses a forged cursor whose position lies outside the storable range, on every list', async () => {
    for (const list of ['/v1/tenants', '/v1/tenants/acme/api-keys', '/v1/audit', '/v1/tenants/acme/audit']) {
      for (const at of ['0000-01-01T00:00:00Z', '1969-12-31T23:59:59Z']) {
        await expectFieldError('GET', `${list}?cursor=${cursorAt(at)}`, 'cursor');
      }
    }
  });

  it('takes counts as decimal numbers within their range only', async () => {
    for (const limit of ['1e2', '0x10', '1.5', '0', '201', '-1', '%20', '1&limit=2']) {
      await expectFieldError('GET', `/v1/tenants?limit=${limit}`, 'limit');
      await expectFieldError('GET', `/v1/usage/failed-jobs?limit=${limit}`, 'limit');
    }
    expect((await t.request('GET', '/v1/tenants?limit=200', { token: t.platformToken })).status).toBe(200);
  });

  it('refuses a key expiry past the year 9999', async () => {
    await expectFieldError('POST', '/v1/tenants/acme/api-keys', 'expiresAt', { name: 'x', expiresAt: '9999-12-31T23:59:59-14:00' });
    await expectFieldError('POST', '/v1/tenants/acme/api-keys', 'expiresAt', { name: 'x', expiresAt: '2027-02-30T00:00:00Z' });
    expect((await t.request('POST', '/v1/tenants/acme/api-keys', { token: t.platformToken, body: { name: 'x', expiresAt: '2099-01-01T00:00:00+01:00' } })).status).toBe(201);
  });
});
