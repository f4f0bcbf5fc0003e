export { createMetricsRegistry, DEFAULT_GATEWAY_METRICS_PORT, DEFAULT_API_METRICS_PORT } from './metrics-registry';
export type {
  GatewayMetrics,
  ApiMetrics,
  GatewayMetricsOptions,
  ApiMetricsOptions,
  UsageQueueSnapshot,
  Transport,
  MessageRoute,
  CallOutcome,
  MessageEra,
} from './metrics-registry';
export { startMetricsServer } from './metrics-server';
export type { MetricsServer, MetricsServerOptions } from './metrics-server';
