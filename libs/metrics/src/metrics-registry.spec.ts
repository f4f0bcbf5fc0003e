import { createMetricsRegistry } from './metrics-registry';

const GATEWAY_SERIES = [
  'switchboard_gateway_active_sessions',
  'switchboard_gateway_sessions_opened_total',
  'switchboard_gateway_messages_total',
  'switchboard_gateway_forward_duration_seconds',
  'switchboard_gateway_tool_calls_total',
  'switchboard_gateway_tool_call_duration_seconds',
  'switchboard_gateway_rate_limit_rejections_total',
  'switchboard_gateway_auth_failures_total',
  'switchboard_redis_connection_up',
  'switchboard_gateway_usage_buffer_depth',
  'switchboard_gateway_usage_events_dropped_total',
  'switchboard_bus_messages_rejected_total',
  'switchboard_limits_store_errors_total',
];

/** 20 plugins × 8 tools, every outcome, all routes, limits, reasons and connections: a busy node. */
function busyGateway() {
  const metrics = createMetricsRegistry({ app: 'gateway', nodeId: 'gw-1', usageQueueDepth: () => 7 });
  for (const transport of ['sse', 'streamable-http']) {
    metrics.activeSessions.set({ transport }, 1234);
    metrics.sessionsOpened.inc({ transport }, 99_999);
  }
  for (const route of ['local', 'forwarded']) for (const outcome of ['ok', 'error', 'timeout', 'rejected']) metrics.messages.inc({ route, outcome });
  metrics.forwardDuration.observe(0.0004);
  for (let p = 0; p < 20; p++) {
    const plugin = `plugin-number-${p}`;
    for (let t = 0; t < 8; t++) for (const outcome of ['ok', 'error', 'timeout']) metrics.toolCalls.inc({ plugin, tool: `some_tool_name_${t}`, outcome });
    metrics.toolCallDuration.observe({ plugin }, 0.2);
  }
  for (const scope of ['key', 'tenant']) for (const limit of ['requestsPerMinute', 'toolCallsPerMinute', 'concurrentSessions', 'concurrentToolCalls', 'monthlyToolCalls']) metrics.rateLimitRejections.inc({ scope, limit });
  for (const reason of ['missing', 'malformed', 'unknown-key', 'revoked', 'expired', 'tenant-suspended', 'session-binding']) metrics.authFailures.inc({ reason });
  for (const connection of ['control-bus', 'limits', 'sessions', 'usage-queue']) metrics.redisConnectionUp.set({ connection }, 1);
  for (const reason of ['bad-signature', 'replayed', 'stale', 'malformed']) metrics.busMessagesRejected.inc({ reason });
  return metrics;
}

describe('gateway metrics', () => {
  it('exposes every named series, labelled with the node', async () => {
    const page = await busyGateway().registry.metrics();
    for (const name of GATEWAY_SERIES) expect(page).toContain(`# TYPE ${name} `);
    expect(page).toContain('switchboard_gateway_usage_buffer_depth{node="gw-1"} 7');
    expect(page).toContain('switchboard_gateway_active_sessions{transport="sse",node="gw-1"} 1234');
    // Standard names, so stock Node.js dashboards work: no switchboard_ prefix on process metrics.
    expect(page).toMatch(/^process_cpu_seconds_total\{/m);
    expect(page).toMatch(/^nodejs_heap_size_used_bytes\{/m);
    expect(page).not.toContain('switchboard_process_');
    expect(page).not.toContain('switchboard_nodejs_');
  });

  it('keeps a busy page under 100 KB', async () => {
    const page = await busyGateway().registry.metrics();
    expect(Buffer.byteLength(page)).toBeLessThan(100 * 1024);
  });

  it('has no tenant or key label on any series', async () => {
    const series = await busyGateway().registry.getMetricsAsJSON();
    const labels = new Set(series.flatMap((metric) => metric.values.flatMap((value) => Object.keys(value.labels))));
    for (const forbidden of ['tenant', 'tenantId', 'tenant_id', 'key', 'keyId', 'api_key', 'session', 'sessionId']) expect(labels).not.toContain(forbidden);
  });
});

describe('api metrics', () => {
  it('exposes request counts, latency and the usage queue read at scrape time', async () => {
    const metrics = createMetricsRegistry({
      app: 'api',
      nodeId: 'api-1',
      processMetrics: false,
      usageQueue: async () => ({ waiting: 4, active: 1, delayed: 2, failed: 3, lagSeconds: 1.5 }),
    });
    metrics.httpRequests.inc({ method: 'GET', route: '/v1/tenants/:id/usage', status: '200' });
    metrics.httpRequestDuration.observe({ method: 'GET', route: '/v1/tenants/:id/usage' }, 0.012);
    const page = await metrics.registry.metrics();
    expect(page).toContain('switchboard_api_http_requests_total{method="GET",route="/v1/tenants/:id/usage",status="200",node="api-1"} 1');
    expect(page).toContain('switchboard_api_http_request_duration_seconds_bucket{le="0.025",node="api-1",method="GET",route="/v1/tenants/:id/usage"} 1');
    expect(page).toContain('switchboard_api_usage_queue_jobs{state="waiting",node="api-1"} 4');
    expect(page).toContain('switchboard_api_usage_queue_lag_seconds{node="api-1"} 1.5');
    expect(page).toContain('switchboard_api_usage_jobs_failed{node="api-1"} 3');
  });
});
