import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/*
 * Label rule: only labels with a small, fixed set of values (transport, route, outcome, plugin,
 * tool, scope, reason). Never tenant or key ids: each new tenant would add series to every scrape,
 * and tenants see their own numbers through the usage API instead.
 */

export const DEFAULT_GATEWAY_METRICS_PORT = 9091;
export const DEFAULT_API_METRICS_PORT = 9092;

/** Latencies of a Redis hop to a slow forwarded call. */
const FORWARD_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5];
/** Tool calls range from an echo to a slow remote API. */
const TOOL_CALL_BUCKETS_SECONDS = [0.01, 0.05, 0.25, 1, 2.5, 10, 30];
const HTTP_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

export type Transport = 'sse' | 'streamable-http';
export type MessageRoute = 'local' | 'forwarded';
/** Which protocol era a message belongs to: a stateless 2026-07-28 request, or a message of a (2025 or legacy) session. */
export type MessageEra = '2026-07-28' | 'session';
/** How a tool call ended; `input_required`: a 2026-07-28 round that asked the client for input. */
export type CallOutcome = 'ok' | 'error' | 'timeout' | 'rejected' | 'input_required';

export interface GatewayMetrics {
  readonly registry: Registry;
  activeSessions: Gauge<'transport'>;
  sessionsOpened: Counter<'transport'>;
  /** Sessions the gateway closed itself for a reason worth watching (`slow_reader`: its client stopped reading). */
  sessionsClosed: Counter<'reason'>;
  /** Stateless (2026-07-28) answer streams the gateway cut itself, by reason (`slow_reader`). */
  streamsCut: Counter<'reason'>;
  /** Every MCP message handled, by where it was served and its era. */
  messages: Counter<'route' | 'outcome' | 'era'>;
  /** Time from publishing a forwarded message to its answer arriving back. */
  forwardDuration: Histogram<never>;
  toolCalls: Counter<'plugin' | 'tool' | 'outcome'>;
  /** By plugin only: a histogram per tool would multiply the page by the bucket count. */
  toolCallDuration: Histogram<'plugin'>;
  /** `limit` is one of the five limit names. */
  rateLimitRejections: Counter<'scope' | 'limit'>;
  authFailures: Counter<'reason'>;
  /** 1 when the connection is ready; `connection` names its use (control-bus, limits, sessions, usage-queue). */
  redisConnectionUp: Gauge<'connection'>;
  /** Usage events buffered in this node, not yet in the queue. */
  usageQueueDepth: Gauge<never>;
  usageEventsDropped: Counter<never>;
  /** Control-bus or forwarded messages dropped as forged, replayed or stale. */
  busMessagesRejected: Counter<'reason'>;
  limitsStoreErrors: Counter<never>;
  /** Hosted MCP servers (server templates), labelled by template: platform-defined, few. */
  hostedServerStarts: Counter<'template' | 'mode'>;
  hostedServerStartDuration: Histogram<'template'>;
  hostedServerCrashes: Counter<'template'>;
  /** Children stopped for idleness. */
  hostedServerReaps: Counter<'template'>;
  /** Starts refused by the per-node or per-tenant cap. */
  hostedServerRefusals: Counter<'template' | 'limit'>;
}

export interface UsageQueueSnapshot {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  lagSeconds: number;
}

export interface ApiMetrics {
  readonly registry: Registry;
  /** `route` is the route template (/v1/tenants/:id/usage), never the raw URL. */
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpRequestDuration: Histogram<'method' | 'route'>;
  usageQueueJobs: Gauge<'state'>;
  /** How long the oldest waiting usage job has waited. */
  usageQueueLag: Gauge<never>;
  usageJobsFailed: Gauge<never>;
}

interface CommonOptions {
  nodeId: string;
  /** Default process metrics (CPU, memory, event loop lag); off in tests that count series. */
  processMetrics?: boolean;
}

export interface GatewayMetricsOptions extends CommonOptions {
  app: 'gateway';
  /** Read at scrape time, e.g. `() => usageSink.stats().buffered`. */
  usageQueueDepth?: () => number;
}

export interface ApiMetricsOptions extends CommonOptions {
  app: 'api';
  /** Read at scrape time, e.g. `() => usageQueueStats(queue)`. */
  usageQueue?: () => Promise<UsageQueueSnapshot>;
}

export function createMetricsRegistry(options: GatewayMetricsOptions): GatewayMetrics;
export function createMetricsRegistry(options: ApiMetricsOptions): ApiMetrics;
export function createMetricsRegistry(options: GatewayMetricsOptions | ApiMetricsOptions): GatewayMetrics | ApiMetrics {
  const registry = new Registry();
  // No `app` label: the metric names already say gateway or api, and every byte repeats per line.
  registry.setDefaultLabels({ node: options.nodeId });
  // Process and Node.js metrics keep prom-client's standard names (process_cpu_seconds_total,
  // nodejs_heap_size_used_bytes, …) so stock Node.js dashboards work; our own series keep the
  // switchboard_ prefix.
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  return options.app === 'gateway' ? gatewayMetrics(registry, options) : apiMetrics(registry, options);
}

/** Hosted servers start in tens of milliseconds (node) to tens of seconds (npx downloading). */
const HOSTED_START_BUCKETS_SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

function gatewayMetrics(registry: Registry, options: GatewayMetricsOptions): GatewayMetrics {
  const registers = [registry];
  const readDepth = options.usageQueueDepth;
  return {
    registry,
    activeSessions: new Gauge({ name: 'switchboard_gateway_active_sessions', help: 'Open MCP sessions on this node', labelNames: ['transport'], registers }),
    sessionsOpened: new Counter({ name: 'switchboard_gateway_sessions_opened_total', help: 'MCP sessions opened', labelNames: ['transport'], registers }),
    sessionsClosed: new Counter({ name: 'switchboard_gateway_sessions_closed_total', help: 'MCP sessions the gateway closed itself, by reason (slow_reader)', labelNames: ['reason'], registers }),
    streamsCut: new Counter({ name: 'switchboard_gateway_streams_cut_total', help: 'Stateless (2026-07-28) answer streams the gateway cut itself, by reason (slow_reader)', labelNames: ['reason'], registers }),
    messages: new Counter({ name: 'switchboard_gateway_messages_total', help: 'MCP messages handled, by route (local or forwarded to the owner node), outcome and era (2026-07-28 or session)', labelNames: ['route', 'outcome', 'era'], registers }),
    forwardDuration: new Histogram({ name: 'switchboard_gateway_forward_duration_seconds', help: 'Round trip of a message forwarded to another node', buckets: FORWARD_BUCKETS_SECONDS, registers }),
    toolCalls: new Counter({ name: 'switchboard_gateway_tool_calls_total', help: 'Tool calls by plugin, tool and outcome', labelNames: ['plugin', 'tool', 'outcome'], registers }),
    toolCallDuration: new Histogram({ name: 'switchboard_gateway_tool_call_duration_seconds', help: 'Tool call duration by plugin', labelNames: ['plugin'], buckets: TOOL_CALL_BUCKETS_SECONDS, registers }),
    rateLimitRejections: new Counter({ name: 'switchboard_gateway_rate_limit_rejections_total', help: 'Requests and tool calls refused by a limit, by scope (key or tenant) and limit', labelNames: ['scope', 'limit'], registers }),
    authFailures: new Counter({ name: 'switchboard_gateway_auth_failures_total', help: 'Refused credentials by reason', labelNames: ['reason'], registers }),
    redisConnectionUp: new Gauge({ name: 'switchboard_redis_connection_up', help: '1 when the Redis connection is ready', labelNames: ['connection'], registers }),
    usageQueueDepth: new Gauge({
      name: 'switchboard_gateway_usage_buffer_depth',
      help: 'Usage events waiting in this node to be queued',
      registers,
      collect() {
        if (readDepth) this.set(readDepth());
      },
    }),
    usageEventsDropped: new Counter({ name: 'switchboard_gateway_usage_events_dropped_total', help: 'Usage events lost because the local buffer was full', registers }),
    busMessagesRejected: new Counter({ name: 'switchboard_bus_messages_rejected_total', help: 'Inter-node messages dropped as forged, replayed, stale or malformed', labelNames: ['reason'], registers }),
    limitsStoreErrors: new Counter({ name: 'switchboard_limits_store_errors_total', help: 'Limit checks that could not reach Redis (then failing open or closed)', registers }),
    hostedServerStarts: new Counter({ name: 'switchboard_gateway_hosted_server_starts_total', help: 'Hosted MCP server processes started, by template and mode', labelNames: ['template', 'mode'], registers }),
    hostedServerStartDuration: new Histogram({ name: 'switchboard_gateway_hosted_server_start_duration_seconds', help: 'Time from spawning a hosted MCP server to its initialized MCP session', labelNames: ['template'], buckets: HOSTED_START_BUCKETS_SECONDS, registers }),
    hostedServerCrashes: new Counter({ name: 'switchboard_gateway_hosted_server_crashes_total', help: 'Hosted MCP server processes that exited unexpectedly', labelNames: ['template'], registers }),
    hostedServerReaps: new Counter({ name: 'switchboard_gateway_hosted_server_reaps_total', help: 'Hosted MCP server processes stopped for idleness', labelNames: ['template'], registers }),
    hostedServerRefusals: new Counter({ name: 'switchboard_gateway_hosted_server_refusals_total', help: 'Hosted MCP server starts refused by the node or tenant cap', labelNames: ['template', 'limit'], registers }),
  };
}

function apiMetrics(registry: Registry, options: ApiMetricsOptions): ApiMetrics {
  const registers = [registry];
  const readQueue = options.usageQueue;
  // One read per scrape feeds all three queue gauges.
  let snapshot: Promise<UsageQueueSnapshot> | undefined;
  const read = async (): Promise<UsageQueueSnapshot | undefined> => {
    if (!readQueue) return undefined;
    snapshot ??= readQueue().finally(() => setImmediate(() => (snapshot = undefined)));
    return snapshot.catch(() => undefined);
  };
  return {
    registry,
    httpRequests: new Counter({ name: 'switchboard_api_http_requests_total', help: 'Admin API requests by route template and status', labelNames: ['method', 'route', 'status'], registers }),
    httpRequestDuration: new Histogram({ name: 'switchboard_api_http_request_duration_seconds', help: 'Admin API latency by route template', labelNames: ['method', 'route'], buckets: HTTP_BUCKETS_SECONDS, registers }),
    usageQueueJobs: new Gauge({
      name: 'switchboard_api_usage_queue_jobs',
      help: 'Usage jobs by state',
      labelNames: ['state'],
      registers,
      async collect() {
        const stats = await read();
        if (!stats) return;
        for (const state of ['waiting', 'active', 'delayed', 'failed'] as const) this.set({ state }, stats[state]);
      },
    }),
    usageQueueLag: new Gauge({
      name: 'switchboard_api_usage_queue_lag_seconds',
      help: 'Age of the oldest waiting usage job',
      registers,
      async collect() {
        const stats = await read();
        if (stats) this.set(stats.lagSeconds);
      },
    }),
    usageJobsFailed: new Gauge({
      name: 'switchboard_api_usage_jobs_failed',
      help: 'Usage jobs that failed every retry and wait for an operator',
      registers,
      async collect() {
        const stats = await read();
        if (stats) this.set(stats.failed);
      },
    }),
  };
}
