import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { InProcessControlBus, InProcessSessionDirectory } from '@switchboard/coordination';
import { BullMqUsageSink, createUsageEvent, SharedUsageSink, USAGE_QUEUE_NAME, type AggregationResult, type UsageEvent } from '@switchboard/metering';
import { startTestApi, type Json, type TestApi } from '../testing/api-test-harness';

const HOUR = '2026-11-20T10:00:00.000Z';
const NEXT_HOUR = '2026-11-20T11:00:00.000Z';
const RANGE = 'from=2026-11-20&to=2026-11-21';

type Totals = { calls: number; errors: number; totalDurationMs: number; bytesIn: number; bytesOut: number };

/** What the usage API should answer for these events, grouped by `groupOf`. */
function expectedGroups(events: UsageEvent[], groupOf: (e: UsageEvent) => string): (Totals & { group: string })[] {
  const groups = new Map<string, Totals & { group: string }>();
  for (const e of events) {
    const group = groupOf(e);
    const g = groups.get(group) ?? { group, calls: 0, errors: 0, totalDurationMs: 0, bytesIn: 0, bytesOut: 0 };
    g.calls += 1;
    g.errors += e.outcome === 'error' ? 1 : 0;
    g.totalDurationMs += e.durationMs;
    g.bytesIn += e.bytesIn;
    g.bytesOut += e.bytesOut;
    groups.set(group, g);
  }
  return [...groups.values()].sort((a, b) => (a.group < b.group ? -1 : 1));
}

async function setUpTenants(t: TestApi) {
  const admin = (path: string, body: unknown) => t.request('POST', path, { token: t.platformToken, body });
  const acme = (await admin('/v1/tenants', { slug: 'acme', name: 'Acme' })).body;
  const other = (await admin('/v1/tenants', { slug: 'other', name: 'Other' })).body;
  const laptop = (await admin('/v1/tenants/acme/api-keys', { name: 'laptop' })).body.key.id;
  const ci = (await admin('/v1/tenants/acme/api-keys', { name: 'ci' })).body.key.id;
  const otherKey = (await admin('/v1/tenants/other/api-keys', { name: 'k' })).body.key.id;
  return { acme, other, laptop, ci, otherKey };
}

/** SSO people (principals' subjects): Alice uses the laptop key's grant, Bob the ci key's. */
const ALICE = 'sso:https://idp.example#alice';
const BOB = 'sso:https://idp.example#bob';

/** Calls across two plugins, three tools, two keys, two end users and two hours, some failed. */
function acmeCalls(tenantId: string, laptop: string, ci: string): UsageEvent[] {
  const call = (keyId: string, plugin: string, tool: string, at: string, outcome: 'ok' | 'error' = 'ok', durationMs = 10, subject?: string) =>
    createUsageEvent(
      { tenantId, keyId, ...(subject ? { subject } : {}), plugin, tool, outcome, durationMs, bytesIn: 100, bytesOut: 2_000 },
      new Date(Date.parse(at) + 60_000),
    );
  return [
    call(laptop, 'weather', 'forecast', HOUR, 'ok', 10, ALICE),
    call(laptop, 'weather', 'forecast', HOUR, 'error', 30, ALICE),
    call(ci, 'weather', 'forecast', NEXT_HOUR, 'ok', 10, BOB),
    call(ci, 'weather', 'alerts', NEXT_HOUR, 'ok', 7),
    call(laptop, 'echo-lite', 'echo', HOUR, 'ok', 1),
    call(laptop, 'echo-lite', 'echo', NEXT_HOUR, 'ok', 1, ALICE),
    call(ci, 'echo-lite', 'echo', NEXT_HOUR, 'error', 2),
  ];
}

describe('usage API in cluster mode: gateway events through BullMQ into Postgres', () => {
  let t: TestApi;
  let ids: Awaited<ReturnType<typeof setUpTenants>>;
  let events: UsageEvent[];
  let redis: Redis;
  let queueEvents: QueueEvents<AggregationResult>;
  const finished = new Map<string, 'completed' | 'failed'>();
  let eventsHandled = 0;
  const waiters = new Set<() => void>();

  /** Resolves once `done()` holds, checked after every job the API's worker completes or fails. */
  const until = (done: () => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (!done()) return;
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
      check();
    });

  beforeAll(async () => {
    t = await startTestApi('usage', {}, { redis: true });
    ids = await setUpTenants(t);
    redis = new Redis(t.cluster!.redisUrl, { maxRetriesPerRequest: null });
    // Reads the queue's event stream from its start, so no completion can slip by unseen.
    queueEvents = new QueueEvents<AggregationResult>(USAGE_QUEUE_NAME, { connection: redis, prefix: t.cluster!.usageQueuePrefix, lastEventId: '0-0' });
    const onFinished = (jobId: string, state: 'completed' | 'failed') => {
      finished.set(jobId, state);
      for (const waiter of [...waiters]) waiter();
    };
    // A job is a batch of events: its result says how many it handled (counted or duplicate).
    queueEvents.on('completed', ({ jobId, returnvalue }) => {
      eventsHandled += returnvalue.applied + returnvalue.duplicates;
      onFinished(jobId, 'completed');
    });
    queueEvents.on('failed', ({ jobId }) => onFinished(jobId, 'failed'));
    await queueEvents.waitUntilReady();

    // The gateway side, as a gateway node runs it.
    const sink = new BullMqUsageSink({ redisUrl: t.cluster!.redisUrl, prefix: t.cluster!.usageQueuePrefix });
    events = acmeCalls(ids.acme.id, ids.laptop, ids.ci);
    const otherCall = createUsageEvent(
      // The same subject in another tenant: never in acme's usage by subject.
      { tenantId: ids.other.id, keyId: ids.otherKey, subject: ALICE, plugin: 'weather', tool: 'forecast', outcome: 'ok', durationMs: 5, bytesIn: 1, bytesOut: 1 },
      new Date(HOUR),
    );
    for (const event of [...events, otherCall]) sink.record(event);
    await until(() => eventsHandled >= events.length + 1);
    await sink.close();
  });
  afterAll(async () => {
    await queueEvents.close();
    redis.disconnect();
    await t.close();
  });

  const usage = (query: string, token = t.platformToken) => t.request('GET', `/v1/tenants/acme/usage?${query}`, { token });

  it('returns totals per plugin equal to the calls fed through the queue', async () => {
    const res = await usage(`${RANGE}&groupBy=plugin`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ tenantId: ids.acme.id, from: '2026-11-20T00:00:00.000Z', to: '2026-11-21T00:00:00.000Z', groupBy: 'plugin' });
    expect(res.body.groups).toEqual(expectedGroups(events, (e) => e.plugin));
    expect(res.body.totals).toEqual({ calls: 7, errors: 2, totalDurationMs: 61, bytesIn: 700, bytesOut: 14_000 });
  });

  it('groups by tool, key and hour, and plugin is the default', async () => {
    expect((await usage(`${RANGE}&groupBy=tool`)).body.groups).toEqual(expectedGroups(events, (e) => `${e.plugin}/${e.tool}`));
    expect((await usage(`${RANGE}&groupBy=key`)).body.groups).toEqual(expectedGroups(events, (e) => e.keyId));
    const hours = (await usage(`${RANGE}&groupBy=hour`)).body.groups.map((g: Json) => [g.group, g.calls]);
    expect(hours).toEqual([['2026-11-20T10:00:00Z', 3], ['2026-11-20T11:00:00Z', 4]]);
    expect((await usage(RANGE)).body.groupBy).toBe('plugin');
  });

  it('groups by subject, counting calls without one for their key, and only within the tenant', async () => {
    const res = await usage(`${RANGE}&groupBy=subject`);
    expect([res.status, res.body.groupBy]).toEqual([200, 'subject']);
    expect(res.body.groups).toEqual(expectedGroups(events, (e) => e.subject ?? `key:${e.keyId}`));
    expect(res.body.groups.find((g: Json) => g.group === ALICE).calls).toBe(3);
    const other = await t.request('GET', `/v1/tenants/other/usage?${RANGE}&groupBy=subject`, { token: t.tenantAdminToken(ids.other.id) });
    expect(other.body.groups.map((g: Json) => [g.group, g.calls])).toEqual([[ALICE, 1]]);
  });

  it('adds each group over time per hour or per day with interval, only buckets with calls, in time order', async () => {
    const perHour = await usage(`${RANGE}&groupBy=plugin&interval=hour`);
    expect(perHour.status).toBe(200);
    const hourly = (perHour.body.series as Json[]).map((p) => [p.at, p.group, p.calls, p.errors, p.totalDurationMs]);
    expect(hourly).toEqual([
      ['2026-11-20T10:00:00Z', 'echo-lite', 1, 0, 1],
      ['2026-11-20T10:00:00Z', 'weather', 2, 1, 40],
      ['2026-11-20T11:00:00Z', 'echo-lite', 2, 1, 3],
      ['2026-11-20T11:00:00Z', 'weather', 2, 0, 17],
    ]);
    // The groups are the same as without interval; the series adds up to them.
    expect(perHour.body.groups).toEqual(expectedGroups(events, (e) => e.plugin));
    const daily = (await usage(`${RANGE}&groupBy=tool&interval=day`)).body.series.map((p: Json) => [p.at, p.group, p.calls]);
    expect(daily).toEqual([
      ['2026-11-20T00:00:00Z', 'echo-lite/echo', 3],
      ['2026-11-20T00:00:00Z', 'weather/alerts', 1],
      ['2026-11-20T00:00:00Z', 'weather/forecast', 3],
    ]);
    expect((await usage(RANGE)).body.series).toBeUndefined();
  });

  it("never puts another tenant's calls in a series", async () => {
    const res = await t.request('GET', `/v1/tenants/other/usage?${RANGE}&groupBy=subject&interval=hour`, { token: t.tenantAdminToken(ids.other.id) });
    expect(res.body.series.map((p: Json) => [p.at, p.group, p.calls])).toEqual([['2026-11-20T10:00:00Z', ALICE, 1]]);
  });

  it('counts only the hour buckets inside [from, to)', async () => {
    const res = await usage('from=2026-11-20T11:00:00Z&to=2026-11-20T12:00:00Z');
    expect(res.body.totals.calls).toBe(4);
  });

  it("shows a tenant admin its own usage and answers 404 for another tenant's", async () => {
    const otherAdmin = t.tenantAdminToken(ids.other.id);
    const own = await t.request('GET', `/v1/tenants/other/usage?${RANGE}`, { token: otherAdmin });
    expect([own.status, own.body.totals.calls]).toEqual([200, 1]);
    for (const ref of ['acme', ids.acme.id]) {
      const res = await t.request('GET', `/v1/tenants/${ref}/usage?${RANGE}`, { token: otherAdmin });
      expect([res.status, res.body.error.code]).toEqual([404, 'TENANT_NOT_FOUND']);
    }
  });

  it.each([
    ['a missing from', 'to=2026-11-21', ['from']],
    ['a date that is not ISO 8601', 'from=20.11.2026&to=2026-11-21', ['from']],
    ['a date-time without a zone', 'from=2026-11-20T10:00:00&to=2026-11-21', ['from']],
    ['to before from', 'from=2026-11-21&to=2026-11-20', ['to']],
    ['a range over 93 days', 'from=2026-01-01&to=2026-06-01', ['to']],
    ['an unknown groupBy', `${RANGE}&groupBy=tenant`, ['groupBy']],
    ['an unknown parameter', `${RANGE}&tenantId=x`, ['tenantId']],
    ['an unknown interval', `${RANGE}&interval=week`, ['interval']],
    ['an interval with groupBy hour', `${RANGE}&groupBy=hour&interval=day`, ['interval']],
    ['hourly series over more than 7 days', 'from=2026-11-01&to=2026-11-20&interval=hour', ['interval']],
  ])('refuses %s with 400, naming the field', async (_why, query, paths) => {
    const res = await usage(query);
    expect([res.status, res.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(res.body.error.details.issues.map((i: { path: string }) => i.path)).toEqual(paths);
  });

  it('lists a usage job that failed for good, without its data, to platform admins only', async () => {
    const queue = new Queue(USAGE_QUEUE_NAME, { connection: redis, prefix: t.cluster!.usageQueuePrefix });
    try {
      // A job that is not a usage event fails at once (no retries): what a broken producer would cause.
      await queue.add('usage-events', { tenantId: ids.acme.id, secret: 'must-not-be-listed' }, { jobId: 'broken-job' });
      await until(() => finished.has('broken-job'));
    } finally {
      await queue.close();
    }
    const res = await t.request('GET', '/v1/usage/failed-jobs?limit=10', { token: t.platformToken });
    expect(res.status).toBe(200);
    expect(res.body.mode).toBe('bullmq');
    expect(res.body.items).toEqual([
      { id: 'broken-job', failedReason: expect.stringContaining('Not a usage event'), attemptsMade: 1, queuedAt: expect.any(String), failedAt: expect.any(String) },
    ]);
    expect(JSON.stringify(res.body)).not.toContain('must-not-be-listed');
    const metrics = await (await fetch(t.api.metricsUrl!)).text();
    expect(metrics).toMatch(/^switchboard_api_usage_jobs_failed\{[^}]*\} 1$/m);
    expect(metrics).toMatch(/^switchboard_api_usage_queue_lag_seconds\{[^}]*\} 0$/m);
    expect((await t.request('GET', '/v1/usage/failed-jobs', { token: t.tenantAdminToken(ids.acme.id) })).status).toBe(403);
    expect((await t.request('GET', '/v1/usage/failed-jobs?limit=0', { token: t.platformToken })).body.error.details.issues[0].path).toBe('limit');
  });

  it('pages failed jobs, retries one with fresh retries and discards another, audited; a tenant admin can do neither', async () => {
    const queue = new Queue(USAGE_QUEUE_NAME, { connection: redis, prefix: t.cluster!.usageQueuePrefix });
    try {
      for (const jobId of ['broken-2', 'broken-3']) await queue.add('usage-events', { not: 'an event' }, { jobId });
      await until(() => finished.has('broken-2') && finished.has('broken-3'));
    } finally {
      await queue.close();
    }
    const failed = (query: string) => t.request('GET', `/v1/usage/failed-jobs?${query}`, { token: t.platformToken });
    const first = await failed('limit=2');
    expect(first.body).toMatchObject({ total: 3, nextOffset: 2 });
    expect(first.body.items.map((job: { id: string }) => job.id)).toEqual(['broken-3', 'broken-2']);
    const second = await failed('limit=2&offset=2');
    expect(second.body).toMatchObject({ total: 3, nextOffset: null, items: [expect.objectContaining({ id: 'broken-job' })] });
    expect((await failed('offset=-1')).body.error.details.issues[0].path).toBe('offset');

    // The attacker's side: a tenant admin neither retries nor discards, and the jobs stay failed.
    const tenantToken = t.tenantAdminToken(ids.acme.id);
    expect((await t.request('POST', '/v1/usage/failed-jobs/broken-job/retry', { token: tenantToken })).status).toBe(403);
    expect((await t.request('DELETE', '/v1/usage/failed-jobs/broken-2', { token: tenantToken })).status).toBe(403);
    expect((await failed('')).body.total).toBe(3);

    // Retried, the job runs again with its attempts counted from zero (it fails again: it is still broken).
    finished.delete('broken-job');
    const retried = await t.request('POST', '/v1/usage/failed-jobs/broken-job/retry', { token: t.platformToken });
    expect(retried.status).toBe(200);
    expect(retried.body).toEqual({ id: 'broken-job', state: 'waiting' });
    await until(() => finished.get('broken-job') === 'failed');
    expect((await failed('')).body.items.find((job: { id: string }) => job.id === 'broken-job')).toMatchObject({ attemptsMade: 1 });

    const discarded = await t.request('DELETE', '/v1/usage/failed-jobs/broken-2', { token: t.platformToken });
    expect(discarded.status).toBe(204);
    expect((await failed('')).body.items.map((job: { id: string }) => job.id).sort()).toEqual(['broken-3', 'broken-job']);
    const again = await t.request('DELETE', '/v1/usage/failed-jobs/broken-2', { token: t.platformToken });
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe('USAGE_JOB_NOT_FOUND');
    expect((await t.request('POST', '/v1/usage/failed-jobs/no-such-job/retry', { token: t.platformToken })).status).toBe(404);
    expect((await t.request('POST', '/v1/usage/failed-jobs/bad%20id/retry', { token: t.platformToken })).status).toBe(400);

    const audit = await t.request('GET', '/v1/audit?targetType=usage-job', { token: t.platformToken });
    expect(audit.body.items.map((event: { action: string; targetId: string }) => [event.action, event.targetId])).toEqual([
      ['usage-job.discard', 'broken-2'],
      ['usage-job.retry', 'broken-job'],
    ]);
  });

  it('documents both endpoints in the OpenAPI description', async () => {
    const paths = (await t.request('GET', '/openapi.json')).body.paths;
    const params = paths['/v1/tenants/{tenant}/usage'].get.parameters.map((p: { name: string }) => p.name);
    expect(params).toEqual(expect.arrayContaining(['tenant', 'from', 'to', 'groupBy']));
    const groupBy = paths['/v1/tenants/{tenant}/usage'].get.parameters.find((p: { name: string }) => p.name === 'groupBy');
    expect(groupBy.schema.enum).toContain('subject');
    expect(paths['/v1/usage/failed-jobs'].get.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['limit', 'offset']));
    expect(paths['/v1/usage/failed-jobs/{jobId}/retry'].post).toBeDefined();
    expect(paths['/v1/usage/failed-jobs/{jobId}'].delete).toBeDefined();
  });
});

describe('usage API in embedded mode: the in-process sink a gateway in the same process records into', () => {
  let t: TestApi;
  let ids: Awaited<ReturnType<typeof setUpTenants>>;
  // The sink a gateway started in the same process (`npm start`) would record into.
  const sink = new SharedUsageSink();
  beforeAll(async () => {
    t = await startTestApi('usage_embedded', {}, { embedded: { controlBus: new InProcessControlBus(), usage: sink, sessions: new InProcessSessionDirectory() } });
    ids = await setUpTenants(t);
  });
  afterAll(async () => {
    await t.close();
  });

  it('writes what is recorded into the shared sink and reports it', async () => {
    const events = acmeCalls(ids.acme.id, ids.laptop, ids.ci);
    for (const event of events) sink.record(event);
    await sink.flush();
    // Every event reached the API's own sink: none recorded while no owner was attached.
    expect(sink.stats()).toMatchObject({ delivered: events.length, dropped: 0 });
    const res = await t.request('GET', `/v1/tenants/acme/usage?${RANGE}&groupBy=tool`, { token: t.platformToken });
    expect(res.body.groups).toEqual(expectedGroups(events, (e) => `${e.plugin}/${e.tool}`));
  });

  it('lists no failed jobs: there is no queue', async () => {
    expect((await t.request('GET', '/v1/usage/failed-jobs', { token: t.platformToken })).body).toEqual({ mode: 'embedded', items: [], total: 0, nextOffset: null });
    expect((await t.request('POST', '/v1/usage/failed-jobs/any-job/retry', { token: t.platformToken })).status).toBe(404);
  });
});
