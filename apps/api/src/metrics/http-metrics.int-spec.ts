import { startTestApi, type TestApi } from '../testing/api-test-harness';

/** Value of one series on a Prometheus text page, matched on the labels given (others ignored). */
function sample(page: string, name: string, labels: Record<string, string>): number {
  for (const line of page.split('\n')) {
    const match = /^(\w+)\{(.*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...match[2].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return 0;
}

describe('admin API metrics', () => {
  let t: TestApi;
  let tenantId: string;
  const slug = 'zebra-metrics-co';
  beforeAll(async () => {
    t = await startTestApi('api_metrics');
    tenantId = (await t.request('POST', '/v1/tenants', { token: t.platformToken, body: { slug, name: 'Zebra' } })).body.id;
  });
  afterAll(async () => {
    await t.close();
  });

  const scrape = async () => {
    const res = await fetch(t.api.metricsUrl!);
    expect(res.status).toBe(200);
    return res.text();
  };

  it('serves /metrics on its own port, never on the public one', async () => {
    expect(t.api.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(new URL(t.api.metricsUrl!).port).not.toBe(String(t.api.port));
    const res = await t.request('GET', '/metrics');
    expect([res.status, res.body.error.code]).toEqual([404, 'ROUTE_NOT_FOUND']);
  });

  it('counts N requests once each under their route template and status, with latency', async () => {
    const labels = { method: 'GET', route: '/v1/tenants/:tenant', status: '200' };
    const before = sample(await scrape(), 'switchboard_api_http_requests_total', labels);
    const n = 5;
    for (let i = 0; i < n; i += 1) {
      // By slug and by id: both are one route.
      expect((await t.request('GET', `/v1/tenants/${i % 2 ? slug : tenantId}`, { token: t.platformToken })).status).toBe(200);
    }
    await t.request('GET', '/v1/tenants/no-such-tenant', { token: t.platformToken });
    const page = await scrape();
    expect(sample(page, 'switchboard_api_http_requests_total', labels)).toBe(before + n);
    expect(sample(page, 'switchboard_api_http_requests_total', { ...labels, status: '404' })).toBe(1);
    expect(sample(page, 'switchboard_api_http_request_duration_seconds_count', { method: 'GET', route: '/v1/tenants/:tenant' })).toBeGreaterThanOrEqual(before + n + 1);
  });

  it('puts requests to unknown URLs under one route label, whatever the URL', async () => {
    await t.request('GET', `/v1/nothing/${tenantId}/here`, { token: t.platformToken });
    expect(sample(await scrape(), 'switchboard_api_http_requests_total', { route: 'unmatched', status: '404' })).toBeGreaterThanOrEqual(1);
  });

  it('shows usage queue lag and failed jobs, and no tenant id or slug anywhere', async () => {
    const page = await scrape();
    expect(page).toMatch(/^switchboard_api_usage_queue_lag_seconds\{[^}]*\} 0$/m);
    expect(page).toMatch(/^switchboard_api_usage_jobs_failed\{[^}]*\} 0$/m);
    expect(page).toMatch(/^process_cpu_seconds_total\{/m);
    expect(page).not.toContain('switchboard_process_');
    expect(page).not.toContain(tenantId);
    expect(page).not.toContain(slug);
  });
});
